/**
 * Property test: random batches, scans, range deletes, compaction steps,
 * snapshots and restarts against a model Map, with a fixed seed (replayable).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { bytesToKey, keyToBytes } from "./bytes.ts";
import { KvEngine, type KvSnapshot } from "./kv.ts";
import type { Cf } from "./kv_format.ts";
import { withTempDir } from "./test_util.ts";

const CF_LIST: Cf[] = ["default", "write"];
const OPTS = { segment_size_bytes: 1024, compact_step_bytes: 300, compact_max_live_ratio: 0.95 };

type Model = Map<string, string>; // cf + "\0" + binary key -> binary value

const key = fc.constantFrom(...["", "a", "ab", "b", "ba", "c", "\x80", "\xff", "zz"].map(
  (k) => [...k].map((c) => c.charCodeAt(0)),
));
const value = fc.oneof(
  fc.uint8Array({ maxLength: 8 }),
  fc.uint8Array({ minLength: 100, maxLength: 300 }),
);
const cf = fc.constantFrom(...CF_LIST);
const op = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant("put" as const), cf, k: key, v: value }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("del" as const), cf, k: key }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("range" as const), cf, k: key, end: key }) },
);
const command = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant("batch" as const),
      ops: fc.array(op, { minLength: 1, maxLength: 6 }),
      sync: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant("compact" as const),
      steps: fc.integer({ min: 1, max: 8 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("scan" as const),
      cf,
      k: key,
      end: key,
      limit: fc.integer({ min: 0, max: 12 }),
      reverse: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ t: "reopen" as const }) },
  { weight: 1, arbitrary: fc.constant({ t: "snapshot" as const }) },
);

const mk = (c: Cf, k: number[]) => `${c}\0${String.fromCharCode(...k)}`;

function modelScan(m: Model, c: Cf, start: string, end: string, limit: number, reverse: boolean) {
  const prefix = `${c}\0`;
  const rows = [...m.entries()]
    .filter(([k]) => k.startsWith(prefix))
    .map(([k, v]) => [k.slice(prefix.length), v] as [string, string])
    .filter(([k]) => k >= start && (end === "" || k < end))
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (reverse) rows.reverse();
  return rows.slice(0, limit);
}

function engineScan(
  e: KvEngine | KvSnapshot,
  c: Cf,
  start: string,
  end: string,
  limit: number,
  reverse: boolean,
) {
  return e.scan(c, keyToBytes(start), keyToBytes(end), limit, reverse)
    .map(([k, v]) => [bytesToKey(k), bytesToKey(v)]);
}

function applyBatch(
  e: KvEngine,
  m: Model,
  ops: fc.Arbitrary<unknown> extends never ? never : {
    t: "put" | "del" | "range";
    cf: Cf;
    k: number[];
    v?: Uint8Array;
    end?: number[];
  }[],
  sync: boolean,
): void {
  const batch = e.newBatch();
  for (const o of ops) {
    const k = new Uint8Array(o.k);
    if (o.t === "put") {
      batch.put(o.cf, k, o.v!);
      m.set(mk(o.cf, o.k), bytesToKey(o.v!));
    } else if (o.t === "del") {
      batch.delete(o.cf, k);
      m.delete(mk(o.cf, o.k));
    } else {
      batch.deleteRange(o.cf, k, new Uint8Array(o.end!));
      const lo = String.fromCharCode(...o.k);
      const hi = String.fromCharCode(...o.end!);
      for (const mkey of [...m.keys()]) {
        const [mcf, mk2] = [mkey.slice(0, mkey.indexOf("\0")), mkey.slice(mkey.indexOf("\0") + 1)];
        if (mcf === o.cf && mk2 >= lo && (hi === "" || mk2 < hi)) m.delete(mkey);
      }
    }
  }
  e.write(batch, { sync });
}

Deno.test("kv property: random batches, scans, compactions, snapshots and restarts match a Map", () => {
  fc.assert(
    fc.property(fc.array(command, { minLength: 1, maxLength: 60 }), (cmds) => {
      withTempDir((dir) => {
        let e = KvEngine.open(dir, OPTS);
        const m: Model = new Map();
        try {
          for (const c of cmds) {
            if (c.t === "batch") applyBatch(e, m, c.ops, c.sync);
            else if (c.t === "compact") { for (let i = 0; i < c.steps; i++) e.compactStep(); }
            else if (c.t === "reopen") {
              e.close();
              e = KvEngine.open(dir, OPTS);
            } else if (c.t === "scan") {
              const start = String.fromCharCode(...c.k);
              const end = String.fromCharCode(...c.end);
              assert.deepEqual(
                engineScan(e, c.cf, start, end, c.limit, c.reverse),
                modelScan(m, c.cf, start, end, c.limit, c.reverse),
              );
            } else {
              const snap = e.snapshot();
              try {
                const frozen = new Map(m);
                for (let i = 0; i < 3; i++) e.compactStep();
                e.write(e.newBatch().deleteRange("default", new Uint8Array(0), new Uint8Array(0)));
                for (const k of [...m.keys()]) if (k.startsWith("default\0")) m.delete(k);
                for (const c2 of CF_LIST) {
                  assert.deepEqual(
                    engineScan(snap, c2, "", "", 1000, false),
                    modelScan(frozen, c2, "", "", 1000, false),
                  );
                }
              } finally {
                snap.close();
              }
            }
          }
          // Restart before and after a full compaction: each must match.
          for (let pass = 0; pass < 2; pass++) {
            if (pass === 1) e.compact();
            e.close();
            e = KvEngine.open(dir, OPTS);
            for (const c2 of CF_LIST) {
              assert.deepEqual(
                engineScan(e, c2, "", "", 1000, false),
                modelScan(m, c2, "", "", 1000, false),
              );
            }
          }
        } finally {
          e.close();
        }
      });
    }),
    { seed: 20260501, numRuns: 150 },
  );
});
