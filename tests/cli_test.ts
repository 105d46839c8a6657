/** The `eraft` command line: help, exit codes, and honest "not built yet" answers. */
import assert from "node:assert/strict";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function eraft(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, out: text(stdout), err: text(stderr) };
}

Deno.test("eraft --help lists every subcommand and exits 0", async () => {
  const { code, out } = await eraft("--help");
  assert.equal(code, 0);
  for (const cmd of ["meta", "store", "db", "dev", "ctl", "bench"]) {
    assert.match(out, new RegExp(`^  ${cmd} `, "m"), `missing ${cmd}`);
  }
});

Deno.test("eraft <command> --help lists that command's flags", async () => {
  const { code, out } = await eraft("store", "--help");
  assert.equal(code, 0);
  for (const flag of ["--addr", "--data", "--meta", "--workers", "--initial-cluster", "--help"]) {
    assert.ok(out.includes(flag), `store --help lacks ${flag}`);
  }
});

Deno.test("an unknown command exits 2 with an error naming it", async () => {
  const { code, err } = await eraft("frobnicate");
  assert.equal(code, 2);
  assert.match(err, /unknown command 'frobnicate'/);
});

Deno.test("an unknown flag exits 2 with an error naming it", async () => {
  const { code, err } = await eraft("db", "--no-such-flag");
  assert.equal(code, 2);
  assert.match(err, /no-such-flag/);
});

Deno.test("no command prints usage and exits 2", async () => {
  const { code, out } = await eraft();
  assert.equal(code, 2);
  assert.match(out, /Usage: eraft <command>/);
});

Deno.test("a malformed address flag exits 2 naming the flag", async () => {
  for (
    const args of [
      ["store", "--addr", "bogus", "--store-id", "1", "--initial-cluster", "1=127.0.0.1:1"],
      [
        "store",
        "--frame-addr",
        "127.0.0.1:x",
        "--store-id",
        "1",
        "--initial-cluster",
        "1=127.0.0.1:1",
      ],
      ["db", "--addr", "nohost", "--meta", "127.0.0.1:1"],
      ["meta", "--metrics-addr", "127.0.0.1:99999"],
    ]
  ) {
    const { code, err } = await eraft(...args);
    assert.equal(code, 2, `${args.join(" ")}: ${err}`);
    assert.match(err, /--(addr|frame-addr|metrics-addr) must be host:port, got '/);
  }
});
