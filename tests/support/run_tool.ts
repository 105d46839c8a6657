/**
 * Runs a command-line tool (redis-cli, redis-benchmark) to completion, with
 * optional stdin; asserts it succeeded and returns stdout + stderr.
 * @module
 */
import assert from "node:assert/strict";

/** `cmd args` with `stdin` piped in (none when absent); the combined output. */
export async function runTool(cmd: string, args: string[], stdin?: string): Promise<string> {
  const p = new Deno.Command(cmd, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = p.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await p.output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `${cmd} ${args.join(" ")} failed:\n${text}`);
  return text;
}
