import assert from "node:assert/strict";
import { CF_DEFAULT, CrossRegionError, MutationOp, PreconditionKind } from "./backend.ts";
import { str, utf8 } from "./encoding/bytes.ts";
import { MemoryBackend } from "./memory_backend.ts";

const none = new Uint8Array(0);
const put = (k: string, v: string) => ({
  op: MutationOp.Put,
  cf: CF_DEFAULT,
  key: utf8(k),
  value: utf8(v),
  type: 0,
  end_key: none,
});

Deno.test("memory backend: scan forward and reverse within [start, end)", async () => {
  const b = new MemoryBackend();
  await b.batch(["a", "b", "c", "d"].map((k) => put(k, k.toUpperCase())), []);
  const fwd = await b.scan(CF_DEFAULT, utf8("b"), utf8("d"), 10, false);
  assert.deepEqual(fwd.map((p) => str(p.key)), ["b", "c"]);
  const rev = await b.scan(CF_DEFAULT, utf8("a"), utf8("d"), 2, true);
  assert.deepEqual(rev.map((p) => str(p.key)), ["c", "b"]);
  const all = await b.scan(CF_DEFAULT, none, none, 10, true);
  assert.deepEqual(all.map((p) => str(p.key)), ["d", "c", "b", "a"]);
});

Deno.test("memory backend: a failed precondition writes nothing", async () => {
  const b = new MemoryBackend();
  await b.batch([put("k", "1")], []);
  const out = await b.batch([put("k", "2"), put("j", "x")], [
    { kind: PreconditionKind.NotExists, cf: CF_DEFAULT, key: utf8("j"), value: none },
    { kind: PreconditionKind.ValueEquals, cf: CF_DEFAULT, key: utf8("k"), value: utf8("0") },
  ]);
  assert.deepEqual(out, { ok: false, precondition_failed: true, failed_index: 1 });
  assert.equal(str((await b.get(CF_DEFAULT, utf8("k")))!), "1");
  assert.equal(await b.get(CF_DEFAULT, utf8("j")), null);
});

Deno.test("memory backend: DeleteRange removes [key, end_key)", async () => {
  const b = new MemoryBackend();
  await b.batch(["a", "b", "c"].map((k) => put(k, k)), []);
  await b.batch([{
    op: MutationOp.DeleteRange,
    cf: CF_DEFAULT,
    key: utf8("a"),
    value: none,
    type: 0,
    end_key: utf8("c"),
  }], []);
  assert.deepEqual(
    (await b.batchGet(CF_DEFAULT, ["a", "b", "c"].map(utf8))).map((v) => v && str(v)),
    [null, null, "c"],
  );
});

Deno.test("memory backend: a batch spanning simulated regions throws CrossRegionError", async () => {
  const b = new MemoryBackend({ region_boundaries: [utf8("m")] });
  assert.equal(await b.sameRegion([utf8("a"), utf8("l")]), true);
  assert.equal(await b.sameRegion([utf8("a"), utf8("z")]), false);
  await assert.rejects(() => b.batch([put("a", "1"), put("z", "2")], []), CrossRegionError);
  assert.equal(await b.get(CF_DEFAULT, utf8("a")), null);
  await b.batch([put("a", "1"), put("b", "2")], []);
});
