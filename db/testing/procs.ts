/**
 * Child processes for the db benchmarks: spawn with output kept (the last
 * 20,000 characters), wait for a line, stop with SIGTERM then SIGKILL, and
 * a whole local cluster (1 meta, 3 stores, one or more dbs) from this checkout.
 * @module
 */
import { join } from "node:path";
import { freePort } from "./redis_server.ts";
import { DENO_RUN_ARGS } from "@eraft/shared/runtime_flags";

/** A running child and the tail of its output. */
export interface Proc {
  name: string;
  child: Deno.ChildProcess;
  out: string;
}

/** Starts `cmd args`, collecting stdout and stderr into `out`. */
export function spawnProc(name: string, cmd: string, args: string[]): Proc {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" })
    .spawn();
  const p: Proc = { name, child, out: "" };
  for (const s of [child.stdout, child.stderr]) {
    (async () => {
      const d = new TextDecoder();
      for await (const c of s) p.out = (p.out + d.decode(c)).slice(-20_000);
    })();
  }
  return p;
}

/** Waits until the output matches `re`; throws with the output after `timeout_ms`. */
export async function waitOut(p: Proc, re: RegExp, timeout_ms = 60_000): Promise<void> {
  const until = Date.now() + timeout_ms;
  while (!re.test(p.out)) {
    if (Date.now() > until) throw new Error(`${p.name} not ready:\n${p.out.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the child has exited. */
export async function stopProc(p: Proc): Promise<void> {
  try {
    p.child.kill("SIGTERM");
  } catch { /* gone */ }
  const t = setTimeout(() => {
    try {
      p.child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 5000);
  await p.child.status;
  clearTimeout(t);
}

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Runs `eraft ARGS` from this checkout. */
export function spawnEraft(name: string, args: string[]): Proc {
  return spawnProc(name, Deno.execPath(), [...DENO_RUN_ARGS, MAIN, ...args]);
}

/**
 * Starts 1 meta, 3 stores (one worker each, plus `store_args`) and 1 db with
 * their data in `dir`, pushing each process into `procs` as it starts (the
 * caller stops them, also after a failure here). Resolves with the db's port
 * once all of them listen.
 */
export async function startEraftCluster(
  dir: string,
  procs: Proc[],
  store_args: string[] = [],
): Promise<number> {
  const [port] = await startEraftClusterDbs(dir, procs, 1, store_args);
  return port;
}

/** Like {@link startEraftCluster}, with `dbs` stateless db processes; resolves with their ports. */
export async function startEraftClusterDbs(
  dir: string,
  procs: Proc[],
  dbs: number,
  store_args: string[] = [],
): Promise<number[]> {
  const meta = `127.0.0.1:${freePort()}`;
  const m = spawnEraft("meta", ["meta", "--addr", meta, "--data", join(dir, "meta")]);
  procs.push(m);
  await waitOut(m, /listening on/);
  for (let i = 1; i <= 3; i++) {
    const s = spawnEraft(`store${i}`, [
      "store",
      "--addr",
      `127.0.0.1:${freePort()}`,
      "--data",
      join(dir, `store${i}`),
      "--meta",
      meta,
      "--workers",
      "1",
      ...store_args,
    ]);
    procs.push(s);
    await waitOut(s, /listening on/);
  }
  const ports: number[] = [];
  for (let i = 1; i <= dbs; i++) {
    const port = freePort();
    const db = spawnEraft(dbs === 1 ? "db" : `db${i}`, [
      "db",
      "--addr",
      `127.0.0.1:${port}`,
      "--meta",
      meta,
    ]);
    procs.push(db);
    await waitOut(db, /db listening on/);
    ports.push(port);
  }
  return ports;
}

/** The address of the meta a cluster of `procs` (as startEraftClusterDbs started it) listens on. */
export function metaAddr(procs: Proc[]): string {
  const addr = procs.find((p) => p.name === "meta")?.out.match(/listening on (\S+)/)?.[1];
  if (addr === undefined) throw new Error("no meta among the processes, or it is not listening");
  return addr;
}

/**
 * Splits the region holding Redis key `key` where that key's records start
 * (`eraft ctl split --redis-key`), retrying while the region it lies in has
 * no leader yet (a split just before). Resolves once meta knows the split.
 */
export async function splitAtRedisKey(procs: Proc[], key: string): Promise<void> {
  const args = ["ctl", "--meta", metaAddr(procs), "split", "--redis-key", key];
  let last = "";
  for (let attempt = 0; attempt < 20; attempt++) {
    const ctl = spawnEraft("ctl", args);
    const status = await ctl.child.status;
    if (status.success) return;
    last = ctl.out;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`split at ${key} kept failing: ${last}`);
}
