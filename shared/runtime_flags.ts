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
 * @module
 */

/** V8 flags for every eraft isolate (workers share the process's flags). */
export const ERAFT_V8_FLAGS: string[] = ["--max-semi-space-size=32"];

/** `deno run` arguments before the script: permissions and V8 flags. */
export const DENO_RUN_ARGS: string[] = ["run", "-A", `--v8-flags=${ERAFT_V8_FLAGS.join(",")}`];
