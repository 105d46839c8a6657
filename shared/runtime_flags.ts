/**
 * The `deno run` flags every eraft process starts with, wherever it is
 * spawned from (`eraft dev`, supervision, tests, benchmarks) and baked into
 * the standalone binary by `deno task compile`.
 *
 * `--max-semi-space-size=32` (MiB; V8's default is far smaller) gives each
 * isolate a larger young generation: eraft allocates many short-lived objects
 * per request (decoded messages, byte arrays, promises), and fewer scavenges
 * mean less GC work and less promotion. Measured on the 2-core machine in
 * pairs of back-to-back runs through a db (1 meta, 3 stores): SET at 50
 * clients +6 to +13%, GET +8 to +22%. It costs up to ~96 MiB more young
 * generation per isolate under load.
 *
 * `--no-memory-reducer`: an eraft process is a server, not a browser tab.
 * V8's memory reducer notices an isolate gone quiet (8 s without allocating,
 * by default) and runs memory-reducing full GCs, which shrink the heap and
 * flush the bytecode of functions not run lately; the write path is then
 * interpreted and recompiled, and the heap regrown, when traffic returns.
 * Measured with `deno task dev`, 40,000 warm-up SETs, then runs of 18,000
 * SETs at 50 clients each after 10 s idle: those ran slower than the same
 * runs 4 s apart, or with a trickle of 10 SET/s in the gap (GETs or PINGs in
 * the gap did not help: the stores' write path went cold). ABBA pairs, each
 * side 5 such runs on a fresh cluster, median rates: 5,907, 6,855 and
 * 7,126/s before, 8,725, 8,094 and 8,806/s with this flag and
 * `--no-flush-bytecode`; then 7,535, 5,790 and 7,617/s with only the
 * latter, 8,978, 8,964 and 8,306/s with both; then with both against only
 * this flag, no difference (9,850 and 9,540/s, split pairs). So this flag
 * alone: regular GCs still flush code that stays unused.
 * The cost is the heap an idle process keeps: after a load and 40 s idle,
 * the db holds 177 MB RSS instead of 95, a store up to 149 instead of 131.
 * @module
 */

/** V8 flags for every eraft isolate (workers share the process's flags). */
export const ERAFT_V8_FLAGS: string[] = [
  "--max-semi-space-size=32",
  "--no-memory-reducer",
];

/** `deno run` arguments before the script: permissions and V8 flags. */
export const DENO_RUN_ARGS: string[] = ["run", "-A", `--v8-flags=${ERAFT_V8_FLAGS.join(",")}`];
