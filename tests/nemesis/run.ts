/**
 * One seeded nemesis run: start a cluster, run the workload while the
 * nemesis injects faults from the seed, heal everything, wait for recovery,
 * read every key back, check no acknowledged write was lost and that the
 * history is linearizable per key. On a violation the report (text and HTML
 * timeline) and every process's log are written under a temp dir whose path
 * the summary names. Replay a run with the same seed, duration and mix.
 * @module
 */
import { join } from "node:path";
import { Prng } from "@eraft/raft";
import { checkHistory, type CheckResult } from "../linearizability/checker.ts";
import { listModel, type Model, registerModel } from "../linearizability/models.ts";
import { htmlReport, textReport } from "../linearizability/report.ts";
import { NemesisCluster, waitFor } from "./cluster.ts";
import { type Fault, MIXES, restartDead, runNemesis } from "./faults.ts";
import { TimedClient, Workload } from "./workload.ts";

/** What to run. */
export interface NemesisOptions {
  seed: number;
  duration_s: number;
  /** A key of MIXES. */
  mix?: string;
  dbs?: 1 | 2;
  clients?: number;
  /** Search bound per key. */
  max_steps?: number;
  log?: (line: string) => void;
}

/** Every run ends with these numbers. */
export interface NemesisSummary {
  seed: number;
  duration_s: number;
  mix: string;
  faults: Record<string, number>;
  /** Processes that exited on their own (bugs, even when no write was lost). */
  crashes: string[];
  operations: number;
  ok: number;
  unknown: number;
  failed: number;
  acknowledged_writes: number;
  lost_acknowledged_writes: number;
  lost_examples: string[];
  verdict: "linearizable" | "not_linearizable" | "unknown";
  unknown_keys: string[];
  /** Where the report and logs went (only when something is wrong). */
  report_dir: string | null;
}

const RECOVERY_TIMEOUT_MS = 90_000;

/** Runs one scenario; always tears the cluster down. */
export async function runScenario(o: NemesisOptions): Promise<NemesisSummary> {
  const mix_name = o.mix ?? "all";
  const mix: readonly Fault[] | undefined = MIXES[mix_name];
  if (!mix) throw new Error(`unknown mix ${mix_name}; one of ${Object.keys(MIXES)}`);
  const t0 = Date.now();
  const log = (line: string) =>
    (o.log ?? console.log)(`[nemesis ${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);
  const dbs = o.dbs ?? 2;
  const cluster = new NemesisCluster({ stores: 3, dbs });
  const workload = new Workload({
    seed: o.seed,
    clients: o.clients ?? 6,
    registers: 6,
    lists: 3,
    timeout_ms: 5_000,
    port: (c) => cluster.dbPort(c % dbs),
  });
  let summary: NemesisSummary | null = null;
  try {
    log(`seed ${o.seed}, ${o.duration_s} s, mix ${mix_name}: starting the cluster`);
    await cluster.start();
    log("cluster up; workload and nemesis start");
    workload.start();
    const rng = new Prng(o.seed);
    const faults = await runNemesis(cluster, rng, mix, Date.now() + o.duration_s * 1000, log);
    await workload.stop();
    log(`nemesis done (${JSON.stringify(faults)}); healing and waiting for recovery`);
    await recover(cluster, log);
    const lost = await readBack(cluster, workload);
    const regs = checkHistory(registerModel, workload.registers.ops, {
      max_steps: o.max_steps ?? 5_000_000,
    });
    const lists = checkHistory(listModel, workload.lists.ops, {
      max_steps: o.max_steps ?? 5_000_000,
    });
    const c = workload.counts;
    summary = {
      seed: o.seed,
      duration_s: o.duration_s,
      mix: mix_name,
      faults,
      crashes: cluster.crashes,
      operations: c.ok + c.unknown + c.fail,
      ok: c.ok,
      unknown: c.unknown,
      failed: c.fail,
      acknowledged_writes: c.acked_writes,
      lost_acknowledged_writes: lost.length,
      lost_examples: lost.slice(0, 10),
      verdict: regs.verdict === "not_linearizable" || lists.verdict === "not_linearizable"
        ? "not_linearizable"
        : regs.verdict === "unknown" || lists.verdict === "unknown"
        ? "unknown"
        : "linearizable",
      unknown_keys: [...regs.unknown_keys, ...lists.unknown_keys],
      report_dir: null,
    };
    if (summary.verdict !== "linearizable" || lost.length > 0 || cluster.crashes.length > 0) {
      summary.report_dir = writeReports(cluster, [[registerModel, regs], [listModel, lists]], lost);
    }
    return summary;
  } catch (err) {
    const dir = Deno.makeTempDirSync({ prefix: "eraft-nemesis-failed-" });
    cluster.writeLogs(join(dir, "logs"));
    throw new Error(`nemesis seed ${o.seed} failed (logs in ${dir}): ${err}`, { cause: err });
  } finally {
    await workload.stop();
    await cluster.close();
  }
}

/** Heals, restarts, waits for every region to have a leader and every db to serve writes. */
async function recover(cluster: NemesisCluster, log: (l: string) => void): Promise<void> {
  await cluster.healAll();
  await restartDead(cluster, log);
  await waitFor("every region with a leader", async () => {
    const rs = await cluster.regions();
    return rs.length > 0 && rs.every((r) => r.leader);
  }, RECOVERY_TIMEOUT_MS);
  for (let i = 0; i < cluster.dbs.length; i++) {
    const c = new TimedClient(() => cluster.dbPort(i), 10_000);
    try {
      await waitFor(`db${i + 1} serving writes`, async () => {
        const r = await c.call(["SET", `nem:probe:${i}`, "1"]);
        return r.kind === "ok";
      }, RECOVERY_TIMEOUT_MS);
    } finally {
      c.close();
    }
  }
  log("recovered");
}

/** Final reads (recorded into the histories); returns the acknowledged writes that are gone. */
async function readBack(cluster: NemesisCluster, w: Workload): Promise<string[]> {
  const c = new TimedClient(() => cluster.dbPort(0), 10_000);
  const lost: string[] = [];
  const read = async (args: string[]) => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const r = await c.call(args);
      if (r.kind === "ok") return r.value;
      await new Promise((res) => setTimeout(res, 500));
    }
    throw new Error(`final read ${args.join(" ")} kept failing`);
  };
  try {
    for (let i = 0; i < w.opts.registers; i++) {
      const key = w.registerKey(i);
      const h = w.registers.invoke(-1, key, { op: "get" });
      h.ok((await read(["GET", key])) as string | null);
    }
    for (let i = 0; i < w.opts.lists; i++) {
      const key = w.listKey(i);
      const h = w.lists.invoke(-1, key, { op: "lrange" });
      const items = (await read(["LRANGE", key, "0", "-1"])) as string[];
      h.ok(items);
      const present = new Set(items);
      for (const v of w.acked_pushes.get(key) ?? []) {
        if (!present.has(v)) lost.push(`RPUSH ${key} ${v}`);
      }
    }
    for (let i = 0; i < w.acked_once.length; i += 100) {
      const keys = w.acked_once.slice(i, i + 100);
      const vals = (await read(["MGET", ...keys])) as Array<string | null>;
      keys.forEach((k, j) => {
        if (vals[j] !== k) lost.push(`SET ${k} (read ${JSON.stringify(vals[j])})`);
      });
    }
  } finally {
    c.close();
  }
  return lost;
}

function writeReports(
  cluster: NemesisCluster,
  // deno-lint-ignore no-explicit-any
  results: Array<[Model<any, any, any>, CheckResult<any, any>]>,
  lost: string[],
): string {
  const dir = Deno.makeTempDirSync({ prefix: "eraft-nemesis-report-" });
  for (const [model, r] of results) {
    if (r.violation) {
      Deno.writeTextFileSync(join(dir, `${model.name}.txt`), textReport(model, r.violation));
      Deno.writeTextFileSync(join(dir, `${model.name}.html`), htmlReport(model, r.violation));
    }
  }
  if (lost.length > 0) Deno.writeTextFileSync(join(dir, "lost.txt"), lost.join("\n") + "\n");
  cluster.writeLogs(join(dir, "logs"));
  return dir;
}

/** The summary as the lines every run ends with. */
export function formatSummary(s: NemesisSummary): string {
  return [
    `seed ${s.seed}  duration ${s.duration_s} s  mix ${s.mix}`,
    `faults: ${
      Object.entries(s.faults).map(([k, v]) => `${k}×${v}`).join(" ") || "(none applied)"
    }`,
    `unexpected process exits: ${s.crashes.length ? s.crashes.join(", ") : "none"}`,
    `operations: ${s.operations} (ok ${s.ok}, unknown ${s.unknown}, failed ${s.failed})`,
    `acknowledged writes: ${s.acknowledged_writes}`,
    `lost acknowledged writes: ${s.lost_acknowledged_writes}` +
    (s.lost_examples.length ? ` e.g. ${s.lost_examples.slice(0, 3).join("; ")}` : ""),
    `checker verdict: ${s.verdict}` +
    (s.unknown_keys.length ? ` (search bound hit on ${s.unknown_keys.join(",")})` : ""),
    ...(s.report_dir ? [`report: ${s.report_dir}`] : []),
    `replay: deno task nemesis --seed ${s.seed} --duration-s ${s.duration_s} --mix ${s.mix}`,
  ].join("\n");
}
