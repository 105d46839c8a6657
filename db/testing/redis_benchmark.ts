/**
 * redis-benchmark, run once and read: the db benchmark suite and
 * `deno task profile` drive eraft (and redis-server) with it.
 * @module
 */

/** What one run sends: `-t test -c clients -P pipeline`, random keys (-r 100000), 100-byte values. */
export interface BenchmarkLoad {
  test: string;
  clients: number;
  pipeline: number;
}

/** One redis-benchmark measurement (its `--csv` columns in Redis 7.x). */
export interface Measure {
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
}

/**
 * Runs redis-benchmark once. Redis 7.x `--csv` prints a header
 * (`"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",
 * "p95_latency_ms","p99_latency_ms","max_latency_ms"`) and one row per test;
 * columns are looked up by header name, NaN where an older tool lacks them.
 */
export async function redisBenchmark(
  port: number,
  c: BenchmarkLoad,
  n: number,
): Promise<Measure> {
  const args = ["-p", String(port), "-t", c.test, "-n", String(n), "-c", String(c.clients)];
  args.push("-P", String(c.pipeline), "-r", "100000", "-d", "100", "--csv");
  const o = await new Deno.Command("redis-benchmark", { args, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(o.stdout);
  const lines = text.split("\n").map((l) => l.trim().split(",").map((f) => f.replaceAll('"', "")));
  const line = lines.find((l) => l[0] === c.test.toUpperCase());
  if (!line) throw new Error(`redis-benchmark gave no result:\n${text}`);
  const header = lines.find((l) => l[0] === "test") ?? [];
  const col = (name: string, fallback: number) => {
    const i = header.indexOf(name);
    const j = i >= 0 ? i : fallback;
    return j >= 0 && j < line.length ? Number(line[j]) : NaN;
  };
  return {
    ops_per_s: col("rps", 1),
    p50_ms: col("p50_latency_ms", -1),
    p99_ms: col("p99_latency_ms", -1),
  };
}
