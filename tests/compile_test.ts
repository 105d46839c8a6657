/**
 * `deno task compile`'s module graph resolves offline: the entry (main.ts) and
 * the region worker it embeds with `--include` (`deno info` on each).
 * @module
 */
import assert from "node:assert/strict";
import { checkGraph, INCLUDE } from "../tasks/compile.ts";

Deno.test("compile: the module graphs of main.ts and the worker resolve", async () => {
  assert.ok(INCLUDE.includes("store/worker/worker_main.ts"));
  const config = JSON.parse(Deno.readTextFileSync(new URL("../deno.json", import.meta.url)));
  assert.deepEqual(config.compile.include, INCLUDE, "deno.json compile.include matches");
  assert.ok(await checkGraph());
});
