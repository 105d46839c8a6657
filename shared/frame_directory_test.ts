import assert from "node:assert/strict";
import { FrameDirectory } from "./frame_directory.ts";

Deno.test("an unknown store is looked up once in the background; gRPC is used meanwhile", async () => {
  const asked: number[] = [];
  let answer!: (addr: string) => void;
  const dir = new FrameDirectory((id) => {
    asked.push(id);
    return new Promise((resolve) => (answer = resolve));
  });
  assert.equal(dir.get(7), null, "unknown yet");
  assert.equal(dir.get(7), null);
  assert.deepEqual(asked, [7], "one lookup for repeated misses");
  answer("127.0.0.1:4000");
  await Promise.resolve();
  assert.equal(dir.get(7), "127.0.0.1:4000");
});

Deno.test("a store without a frame listener stays on gRPC; a forgotten address is asked again later", async () => {
  let now_addr = "";
  let lookups = 0;
  const dir = new FrameDirectory(() => {
    lookups++;
    return Promise.resolve(now_addr);
  }, 0);
  dir.get(1);
  await Promise.resolve();
  assert.equal(dir.get(1), null, "'' means no frame listener");
  assert.equal(lookups, 1, "a known absence is not asked again");
  now_addr = "127.0.0.1:5000";
  dir.forget(1);
  assert.equal(dir.get(1), null);
  await Promise.resolve();
  assert.equal(dir.get(1), "127.0.0.1:5000");
  assert.equal(lookups, 2);
});

Deno.test("a failed lookup is retried only after retry_ms", async () => {
  let lookups = 0;
  const dir = new FrameDirectory(() => {
    lookups++;
    return Promise.reject(new Error("meta down"));
  }, 60_000);
  dir.get(3);
  await Promise.resolve();
  dir.get(3);
  assert.equal(lookups, 1, "within retry_ms: not asked again");
});
