/**
 * `eraft dev` (`./denow task dev`): a complete local cluster in one command —
 * metas on 127.0.0.1:2379.., stores on 127.0.0.1:20160.., one db on
 * 127.0.0.1:6379 — each a child process (`deno run -A main.ts <cmd>`) whose
 * output is line-prefixed (`[store1] ...`). Data lives under `--data`
 * (default ./data), one directory per process, so a second start reuses it.
 * Ctrl-C / SIGTERM stop the db, then the stores, then the metas (SIGTERM,
 * then SIGKILL after a grace period).
 * Stores register with meta (which allocates their ids and bootstraps region
 * 1 on the first); a restart finds each id in its data directory.
 * @module
 */
import { join } from "node:path";
import { type CommandSpec, type Flags, intFlag, stringFlag } from "@eraft/shared/cli";
import { DENO_RUN_ARGS } from "@eraft/shared/runtime_flags";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const META_PORT = 2379;
const STORE_PORT = 20160;
/** How long a child may take to print its readiness line. */
const START_TIMEOUT_MS = 60_000;
/** Grace between SIGTERM and SIGKILL when stopping. */
const STOP_GRACE_MS = 8_000;

const str = (help: string, def?: string) => ({ type: "string" as const, help, default: def });

/** The `eraft dev` subcommand. */
export const devCommand: CommandSpec = {
  name: "dev",
  summary: "start a local cluster: 1 meta, 3 stores, 1 db on 127.0.0.1:6379",
  flags: {
    "db-port": str("Redis port", "6379"),
    data: str("data directory (one subdirectory per process)", "data"),
    stores: str("store count", "3"),
    metas: str("meta node count (1 or 3)", "1"),
    workers: str("region workers per store", "1"),
    host: str("address every process listens on", "127.0.0.1"),
  },
  run: runDev,
};

/** A child process whose output lines go to our stdout with a prefix. */
class Proc {
  readonly #child: Deno.ChildProcess;
  readonly #pumps: Promise<void>[];
  readonly #waiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = [];
  exited = false;
  readonly status: Promise<Deno.CommandStatus>;

  constructor(readonly name: string, args: string[]) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: [...DENO_RUN_ARGS, MAIN, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#pumps = [this.#pump(this.#child.stdout), this.#pump(this.#child.stderr)];
    this.status = this.#child.status.then((s) => {
      this.exited = true;
      return s;
    });
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    const prefix = `[${this.name}] `;
    let rest = "";
    const decoder = new TextDecoder();
    const out = (line: string) => {
      console.log(prefix + line);
      for (const w of [...this.#waiters]) {
        const m = line.match(w.re);
        if (m) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    };
    for await (const chunk of stream) {
      rest += decoder.decode(chunk, { stream: true });
      const lines = rest.split("\n");
      rest = lines.pop()!;
      for (const line of lines) out(line);
    }
    if (rest !== "") out(rest);
  }

  /** Resolves on the first output line matching `re`; rejects on exit or timeout. */
  waitFor(re: RegExp, timeout_ms = START_TIMEOUT_MS): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined = undefined;
      const w = {
        re,
        resolve: (m: RegExpMatchArray) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      this.#waiters.push(w);
      timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        reject(new Error(`${this.name}: not ready after ${timeout_ms} ms`));
      }, timeout_ms);
      this.status.then((s) => {
        if (!this.#waiters.includes(w)) return;
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        clearTimeout(timer);
        reject(new Error(`${this.name} exited with code ${s.code} before it was ready`));
      });
    });
  }

  /** SIGTERM, then SIGKILL after `grace_ms`; resolves once reaped. */
  async stop(grace_ms = STOP_GRACE_MS): Promise<void> {
    if (!this.exited) {
      try {
        this.#child.kill("SIGTERM");
      } catch { /* already gone */ }
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        if (!this.exited) {
          console.log(`[dev] ${this.name} did not stop in ${grace_ms} ms: SIGKILL`);
          try {
            this.#child.kill("SIGKILL");
          } catch { /* already gone */ }
        }
        resolve();
      }, grace_ms);
    });
    await Promise.race([this.status, killed]);
    await this.status;
    clearTimeout(timer);
    await Promise.all(this.#pumps);
  }
}

async function runDev(flags: Flags): Promise<number> {
  const db_port = intFlag(flags, "db-port", 1, 65535);
  const root = stringFlag(flags, "data");
  const n_stores = intFlag(flags, "stores", 1, 32);
  const n_metas = intFlag(flags, "metas", 1, 7);
  const workers = intFlag(flags, "workers", 1, 64);
  const host = stringFlag(flags, "host");
  await Deno.mkdir(root, { recursive: true });

  const metas = Array.from({ length: n_metas }, (_, i) => `${host}:${META_PORT + i}`);
  const stores = new Map<number, string>();
  for (let i = 1; i <= n_stores; i++) stores.set(i, `${host}:${STORE_PORT + i - 1}`);
  const procs: Proc[] = [];
  let stopping = false;

  const stopAll = async () => {
    stopping = true;
    // db first (no new writes), then stores, then meta.
    for (const p of [...procs].reverse()) await p.stop();
  };

  const stopped = new Promise<string>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(sig, () => resolve(sig));
    }
  });

  try {
    const initial = metas.map((a, i) => `${i + 1}=${a}`).join(",");
    for (let i = 0; i < n_metas; i++) {
      procs.push(
        new Proc(`meta${i + 1}`, [
          "meta",
          "--supervise",
          "--addr",
          metas[i],
          "--data",
          join(root, `meta${i + 1}`),
          "--initial-cluster",
          initial,
        ]),
      );
    }
    await Promise.all(procs.map((p) => p.waitFor(/listening on/)));
    const store_procs: Proc[] = [];
    for (const [id, addr] of stores) {
      const p = new Proc(`store${id}`, [
        "store",
        "--supervise",
        "--addr",
        addr,
        "--data",
        join(root, `store${id}`),
        "--workers",
        String(workers),
        "--meta",
        metas.join(","),
      ]);
      procs.push(p);
      store_procs.push(p);
    }
    await Promise.all(store_procs.map((p) => p.waitFor(/listening on/)));
    const db = new Proc("db", [
      "db",
      "--supervise",
      "--addr",
      `${host}:${db_port}`,
      "--meta",
      metas.join(","),
    ]);
    procs.push(db);
    await db.waitFor(/db listening on/);
    console.log(
      `[dev] ready: ${n_metas} meta, ${n_stores} stores, 1 db; data in ${root}/\n` +
        `[dev]   redis-cli -h ${host} -p ${db_port}\n` +
        `[dev] Ctrl-C stops everything.`,
    );
    const died = Promise.race(
      procs.map((p) => p.status.then((s) => `${p.name} exited with code ${s.code}`)),
    );
    const why = await Promise.race([stopped, died]);
    console.log(`[dev] ${why}: stopping`);
    await stopAll();
    return why.startsWith("SIG") ? 0 : 1;
  } catch (e) {
    console.error(`[dev] ${e instanceof Error ? e.message : e}`);
    if (!stopping) await stopAll();
    return 1;
  }
}
