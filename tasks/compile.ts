/**
 * `deno task compile`: builds the standalone `eraft` executable into
 * `dist/eraft` (or `--output PATH`, `--target TRIPLE`). The region worker
 * (`store/worker/worker_main.ts`, started with `new Worker(url)`) is not in the
 * static import graph, so it is embedded with `--include` (deno.json
 * `compile.include` lists it too); the .proto files, the dashboard page and
 * uPlot are text imports and embed themselves.
 *
 * `deno compile` needs the `denort` runtime for the target, which it
 * downloads. Where that download is impossible (no internet), this stops with
 * a message saying exactly that and exits 1; see README ("Standalone binary").
 *
 * `--check-graph` only proves the module graph of the entry and of the worker
 * resolves (`deno info`), offline; the tests run that.
 * @module
 */
import { parseArgs } from "node:util";
import { ERAFT_V8_FLAGS } from "@eraft/shared/runtime_flags";

const ROOT = new URL("../", import.meta.url).pathname;
/** The entry and the files compile must embed beside its static graph. */
export const ENTRY = "main.ts";
export const INCLUDE = ["store/worker/worker_main.ts"];

async function deno(args: string[], capture: boolean): Promise<{ ok: boolean; text: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: capture ? "piped" : "inherit",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  const err = dec.decode(out.stderr);
  if (!capture && err) await Deno.stderr.write(out.stderr);
  return { ok: out.success, text: (capture ? dec.decode(out.stdout) : "") + err };
}

/** `deno info` of the entry and every included module: true when all resolve. */
export async function checkGraph(): Promise<boolean> {
  let ok = true;
  for (const file of [ENTRY, ...INCLUDE]) {
    const r = await deno(["info", "--json", file], true);
    if (!r.ok) {
      console.error(`compile: module graph of ${file} does not resolve:\n${r.text}`);
      ok = false;
      continue;
    }
    const info = JSON.parse(r.text.slice(0, r.text.lastIndexOf("}") + 1));
    const errors = (info.modules as Array<{ specifier: string; error?: string }>)
      .filter((m) => m.error !== undefined);
    for (const m of errors) console.error(`compile: ${file}: ${m.specifier}: ${m.error}`);
    if (errors.length > 0) ok = false;
    else console.log(`compile: ${file}: ${info.modules.length} modules resolve`);
  }
  return ok;
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      output: { type: "string", default: "dist/eraft" },
      target: { type: "string" },
      "check-graph": { type: "boolean", default: false },
    },
  });
  if (!(await checkGraph())) return 1;
  if (values["check-graph"]) return 0;
  const r = await deno([
    "compile",
    "-A",
    `--v8-flags=${ERAFT_V8_FLAGS.join(",")}`,
    ...INCLUDE.flatMap((f) => ["--include", f]),
    ...(values.target ? ["--target", values.target] : []),
    "--output",
    values.output!,
    ENTRY,
  ], false);
  if (r.ok) {
    console.log(`compile: wrote ${values.output}`);
    return 0;
  }
  if (/denort|download|dl\.deno\.land|error sending request|dns|connect/i.test(r.text)) {
    console.error(
      [
        "",
        "compile: stopped — deno compile could not download the Deno runtime (denort) for the",
        `target${values.target ? ` ${values.target}` : ""}: this machine has no internet access.`,
        "The module graph resolves (checked above); build on a connected machine with",
        "`deno task compile` (see README, 'Standalone binary'), or put denort in DENO_DIR first.",
      ].join("\n"),
    );
  } else console.error("compile: deno compile failed (output above)");
  return 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
