/**
 * Crash tests: build a log of synced batches, then cut the newest segment at
 * every byte offset of its last records (a torn write) or flip bits in it, and
 * check that reopening keeps exactly the batches wholly on disk.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { KvEngine } from "./kv.ts";
import { CorruptionError } from "./record.ts";
import { b, copyDir, s, withTempDir } from "./test_util.ts";

const E = new Uint8Array(0);
type Model = Map<string, string>;

function dump(e: KvEngine): [string, string][] {
  return e.scan("default", E, E, 10_000).map(([k, v]) => [s(k)!, s(v)!]);
}

function sorted(m: Model): [string, string][] {
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** Writes synced batches; returns the model after each and the file size after each. */
function buildLog(dir: string, n: number): { models: Model[]; ends: number[]; file: string } {
  const e = KvEngine.open(dir);
  const models: Model[] = [new Map()];
  const ends: number[] = [0];
  try {
    const m: Model = new Map();
    for (let i = 0; i < n; i++) {
      const batch = e.newBatch();
      for (let j = 0; j < 3; j++) {
        const k = `k${(i * 7 + j * 3) % 11}`;
        if ((i + j) % 4 === 3) {
          batch.delete("default", b(k));
          m.delete(k);
        } else {
          batch.put("default", b(k), b(`v${i}.${j}`));
          m.set(k, `v${i}.${j}`);
        }
      }
      e.write(batch, { sync: true });
      models.push(new Map(m));
      ends.push(e.head.size);
    }
    return { models, ends, file: e.head.path };
  } finally {
    e.close();
  }
}

/** Opens a copy of `src` whose head segment was replaced by `bytes`. */
function reopenWith(src: string, name: string, bytes: Uint8Array, fn: (e: KvEngine) => void) {
  withTempDir((dir) => {
    copyDir(src, dir);
    Deno.writeFileSync(join(dir, name), bytes);
    const e = KvEngine.open(dir);
    try {
      fn(e);
    } finally {
      e.close();
    }
  });
}

Deno.test("kv crash: a cut at every byte of the last records keeps exactly the whole batches", () => {
  withTempDir((src) => {
    const { models, ends, file } = buildLog(src, 12);
    const name = file.slice(file.lastIndexOf("/") + 1);
    const full = Deno.readFileSync(file);
    const from = ends[ends.length - 4];
    for (let cut = from; cut <= full.length; cut++) {
      const whole = ends.filter((end) => end <= cut).length - 1;
      reopenWith(src, name, full.slice(0, cut), (e) => {
        assert.deepEqual(dump(e), sorted(models[whole]), `cut at ${cut}`);
        assert.equal(e.head.size, ends[whole], "torn tail truncated");
        e.write(e.newBatch().put("default", b("after"), b("crash")), { sync: true });
        assert.equal(s(e.get("default", b("after"))), "crash");
      });
    }
  });
});

Deno.test("kv crash: a flipped bit in the last record drops only that record", () => {
  withTempDir((src) => {
    const { models, ends, file } = buildLog(src, 6);
    const name = file.slice(file.lastIndexOf("/") + 1);
    const full = Deno.readFileSync(file);
    const last = ends[ends.length - 2];
    for (let p = last; p < full.length; p++) {
      const bad = full.slice();
      bad[p] ^= 1 << (p % 8);
      reopenWith(src, name, bad, (e) => {
        assert.deepEqual(dump(e), sorted(models[models.length - 2]), `bit flip at ${p}`);
      });
    }
  });
});

Deno.test("kv crash: a damaged record followed by valid ones is a loud error naming file and offset", () => {
  withTempDir((src) => {
    const { ends, file } = buildLog(src, 6);
    const name = file.slice(file.lastIndexOf("/") + 1);
    const full = Deno.readFileSync(file);
    for (const [rec, p] of [[2, ends[2] + 3], [0, 9], [3, ends[3] + 20]]) {
      const bad = full.slice();
      bad[p] ^= 0x40;
      withTempDir((dir) => {
        copyDir(src, dir);
        Deno.writeFileSync(join(dir, name), bad);
        assert.throws(() => KvEngine.open(dir), (err: unknown) => {
          assert(err instanceof CorruptionError);
          assert.equal(err.offset, ends[rec]);
          assert(err.file.endsWith(name));
          return true;
        });
      });
    }
  });
});

Deno.test("kv crash: leftovers of an interrupted rotation are harmless", () => {
  withTempDir((dir) => {
    let e = KvEngine.open(dir, { segment_size_bytes: 1024 });
    try {
      for (let i = 0; i < 40; i++) e.write(e.newBatch().put("default", b(`k${i}`), b(`v${i}`)));
      e.sync();
      const want = dump(e);
      e.close();
      // A temp hint never renamed, and a new head created but never written.
      Deno.writeFileSync(join(dir, "0000000001.hint.tmp"), new Uint8Array([1, 2, 3]));
      Deno.writeFileSync(join(dir, "0000000999.kv"), new Uint8Array(0));
      e = KvEngine.open(dir, { segment_size_bytes: 1024 });
      assert.deepEqual(dump(e), want);
      // The planted temp hint is gone; the only one is the new head's hint in progress.
      const tmps = [...Deno.readDirSync(dir)].filter((f) => f.name.endsWith(".tmp"));
      assert.deepEqual(tmps.map((f) => f.name), ["0000000999.hint.tmp"]);
    } finally {
      e.close();
    }
  });
});
