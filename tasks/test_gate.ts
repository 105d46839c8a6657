/**
 * `deno task test`: the whole gate, in order — format, lint, type-check every
 * member, then every test with the op and resource sanitizers on. Ends with one
 * line `N passed, N failed, N skipped` built from the real counts (the three
 * static checks count as one test each; deno test's "ignored" are "skipped").
 *
 * Usage: deno task test [--only-tests] [-- extra deno test args, e.g. a path or --filter]
 * @module
 */
import { parseArgs } from "node:util";

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const deno = Deno.execPath();
const counts: Counts = { passed: 0, failed: 0, skipped: 0 };

async function run(
  label: string,
  args: string[],
  capture = false,
): Promise<{ ok: boolean; out: string }> {
  console.log(`\n== ${label}: deno ${args.join(" ")}`);
  const child = new Deno.Command(deno, {
    args,
    stdout: capture ? "piped" : "inherit",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  let out = "";
  if (capture) {
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      await Deno.stdout.write(chunk);
      out += decoder.decode(chunk, { stream: true });
    }
  }
  const status = await child.status;
  return { ok: status.success, out };
}

async function staticCheck(label: string, args: string[]): Promise<void> {
  const { ok } = await run(label, args);
  if (ok) counts.passed++;
  else {
    counts.failed++;
    console.log(`FAILED: ${label}`);
  }
}

/** Parses deno test's summary: `ok | 12 passed (3 steps) | 0 failed | 2 ignored (1s)`. */
function parseSummary(out: string): Counts | null {
  const lines = out.split("\n").filter((l) => /^(ok|FAILED) \| /.test(l.trim()));
  if (lines.length === 0) return null;
  const line = lines[lines.length - 1];
  const grab = (word: string) => Number(line.match(new RegExp(`(\\d+) ${word}`))?.[1] ?? 0);
  return { passed: grab("passed"), failed: grab("failed"), skipped: grab("ignored") };
}

/** Runs the gate; returns the process exit code. */
async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { "only-tests": { type: "boolean", default: false } },
    allowPositionals: true,
  });
  if (!values["only-tests"]) {
    await staticCheck("format", ["fmt", "--check"]);
    await staticCheck("lint", ["lint"]);
    await staticCheck("type-check", ["check", "."]);
  }

  const testArgs = ["test", "-A", "--sanitize-ops", "--sanitize-resources", ...positionals];
  const result = await run("tests", testArgs, true);
  const summary = parseSummary(result.out);
  if (summary === null) {
    console.log("FAILED: deno test printed no summary (crashed or no tests ran)");
    counts.failed++;
  } else {
    counts.passed += summary.passed;
    counts.failed += summary.failed;
    counts.skipped += summary.skipped;
    if (!result.ok && summary.failed === 0) counts.failed++; // e.g. a load error after tests
  }

  console.log(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  return counts.failed === 0 ? 0 : 1;
}

// Guarded so that importing this file (deno test once picked up `test.ts`) runs nothing.
if (import.meta.main) Deno.exit(await main(Deno.args));
