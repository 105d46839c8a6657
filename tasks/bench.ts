/**
 * `deno task bench [SUITE...]`: runs benchmark suites, each in its own process
 * so one suite's memory and threads cannot skew the next. Results are printed
 * and written under bench-results/; the summary only reads what this run
 * measured (earlier store.json/db.json are removed first).
 * @module
 */

import { join } from "node:path";
import { DENO_RUN_ARGS } from "@eraft/shared/runtime_flags";
import { writeReport } from "./bench_report.ts";

/** Suite name → script, relative to the repository root. */
const SUITES: Record<string, { script: string; about: string }> = {
  apply: {
    script: "store/worker/bench.ts",
    about: "a replica's apply of merged SETs in one process: µs per mutation and per entry",
  },
  engine: {
    script: "store/engine/bench.ts",
    about: "file engine: group-committed sync writes, scans, reopen",
  },
  db: {
    script: "db/bench.ts",
    about: "redis-benchmark SET/GET through E-DB vs redis-server (fsync always / none)",
  },
  grpc: {
    script: "shared/grpc/bench.ts",
    about: "gRPC between two processes: unary calls and batched streams",
  },
  meta: {
    script: "meta/bench.ts",
    about: "meta RPC calls/s at 1/64 in flight, split and rebalance times on a real cluster",
  },
  graph: {
    script: "db/graph/bench.ts",
    about:
      "GRAPH.QUERY on a real cluster: load 100k nodes / 500k edges, 1- and 2-hop reads/s and p99",
  },
  store: {
    script: "store/server/bench.ts",
    about: "3-store cluster RawPut/RawGet over gRPC at 1/16/64 in flight, beside 3-member etcd",
  },
};

/** Later suites, named so `bench db` says where it comes from instead of failing obscurely. */
const PENDING: Record<string, string> = {};

/** What `deno task bench` runs with no suite named; `all` runs every suite. */
const DEFAULT_SUITES = ["store", "db"];

/**
 * Runs the named suites (store and db, each beside its references, when none
 * is named), then prints the combined table of ratios and writes
 * bench-results/summary.{json,svg} (tasks/bench_report.ts); returns an exit code.
 */
export async function runBench(names: string[]): Promise<number> {
  const chosen = names.length === 0
    ? DEFAULT_SUITES
    : names.length === 1 && names[0] === "all"
    ? Object.keys(SUITES)
    : names;
  for (const name of chosen) {
    if (PENDING[name]) {
      console.error(`bench ${name}: not built yet — ${PENDING[name]}`);
      return 1;
    }
    if (!SUITES[name]) {
      console.error(`bench: unknown suite '${name}'; suites: ${Object.keys(SUITES).join(", ")}`);
      return 2;
    }
  }
  const root = new URL("../", import.meta.url);
  const dir = new URL("bench-results/", root).pathname;
  // The report compares what this invocation measured, never a file left by an earlier run.
  for (const file of ["store.json", "db.json"]) {
    try {
      Deno.removeSync(join(dir, file));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  for (const [i, name] of chosen.entries()) {
    console.log(`== bench [${i + 1}/${chosen.length}] ${name}: ${SUITES[name].about}`);
    const script = new URL(SUITES[name].script, root).pathname;
    // With the V8 flags of eraft's own processes: in-process suites measure its code as it runs.
    const status = await new Deno.Command(Deno.execPath(), { args: [...DENO_RUN_ARGS, script] })
      .spawn().status;
    if (!status.success) return status.code || 1;
  }
  if (!chosen.includes("store") && !chosen.includes("db")) return 0;
  const code = writeReport(dir);
  if (code === 0) await svgToPng(join(dir, "summary.svg"), join(dir, "summary.png"));
  return code;
}

/** A PNG of the plot via headless Chromium when installed (the SVG is the plot either way). */
async function svgToPng(svg: string, png: string): Promise<void> {
  // The window must hold the whole plot: its height grows with the configurations.
  const height = Number(/height="(\d+)"/.exec(Deno.readTextFileSync(svg))?.[1] ?? 1500);
  const profile = Deno.makeTempDirSync({ prefix: "eraft-bench-chromium-" });
  try {
    const out = await new Deno.Command("chromium", {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        `--user-data-dir=${profile}`,
        `--window-size=900,${Math.max(300, Math.ceil(height))}`,
        `--screenshot=${png}`,
        `file://${svg}`,
      ],
      stdout: "null",
      stderr: "null",
      signal: AbortSignal.timeout(60_000),
    }).output();
    if (out.success) console.log(`wrote ${png}`);
  } catch {
    // No chromium: the SVG stands alone.
  } finally {
    Deno.removeSync(profile, { recursive: true });
  }
}

if (import.meta.main) Deno.exit(await runBench(Deno.args));
