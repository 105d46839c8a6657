/**
 * `deno task bench [SUITE...]`: runs benchmark suites, each in its own process
 * so one suite's memory and threads cannot skew the next. Results are printed
 * and written under bench-results/.
 * @module
 */

/** Suite name → script, relative to the repository root. */
const SUITES: Record<string, { script: string; about: string }> = {
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
  store: {
    script: "store/server/bench.ts",
    about: "3-store cluster RawPut/RawGet over gRPC at 1/16/64 in flight, beside 3-member etcd",
  },
};

/** Later suites, named so `bench db` says where it comes from instead of failing obscurely. */
const PENDING: Record<string, string> = {};

/** Runs the named suites (all built ones when none is named); returns an exit code. */
export async function runBench(names: string[]): Promise<number> {
  const chosen = names.length > 0 ? names : Object.keys(SUITES);
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
  for (const name of chosen) {
    console.log(`== bench ${name}: ${SUITES[name].about}`);
    const script = new URL(SUITES[name].script, root).pathname;
    const status = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", script] }).spawn()
      .status;
    if (!status.success) return status.code || 1;
  }
  return 0;
}

if (import.meta.main) Deno.exit(await runBench(Deno.args));
