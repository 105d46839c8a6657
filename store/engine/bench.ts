/**
 * `deno task bench engine`: the engine's numbers next to the disk's physical
 * limit, measured in the same run. Prints a table and writes
 * `bench-results/engine.json`. Not a test: numbers vary by machine.
 *
 *   - raw `append + fdatasync` rate (128 B, 4 KiB) — the single-write ceiling
 *   - KV sync writes/s for 128 B and 4 KiB values with 1, 16, 64 batches per fsync
 *   - scan MB/s over 128 B and 4 KiB values
 *   - reopen time and index bytes per key for 1M keys (in a child process
 *     started with --expose-gc so the heap can be measured cleanly)
 *
 * Usage: deno run -A store/engine/bench.ts [--seconds 1.5] [--keys 1000000]
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { KvEngine } from "./kv.ts";

const E = new Uint8Array(0);

function key(i: number): Uint8Array {
  return new TextEncoder().encode(`user${String(i).padStart(12, "0")}`);
}

function timed(seconds: number, body: () => number): number {
  const t0 = performance.now();
  let n = 0;
  for (let i = 0; i < 1e9 && performance.now() - t0 < seconds * 1000; i++) n += body();
  return n / ((performance.now() - t0) / 1000);
}

function rawFsyncRate(dir: string, size: number, seconds: number): number {
  const f = Deno.openSync(join(dir, `raw-${size}`), { create: true, append: true });
  try {
    const buf = new Uint8Array(size).fill(7);
    return timed(seconds, () => {
      f.writeSync(buf);
      f.syncDataSync();
      return 1;
    });
  } finally {
    f.close();
  }
}

/** Records/s if each fsync carries `per_fsync` records of `size` bytes: the group ceiling. */
function rawGroupRate(dir: string, size: number, per_fsync: number, seconds: number): number {
  const record_bytes = size + 16 + 8 + 15; // key, frame header, batch and op headers
  return rawFsyncRate(dir, record_bytes * per_fsync, seconds) * per_fsync;
}

function kvSyncRate(dir: string, size: number, per_fsync: number, seconds: number): number {
  const e = KvEngine.open(join(dir, `kv-${size}-${per_fsync}`));
  try {
    const value = new Uint8Array(size).fill(3);
    let i = 0;
    return timed(seconds, () => {
      const batches = [];
      for (let j = 0; j < per_fsync; j++) {
        batches.push(e.newBatch().put("default", key(i++), value));
      }
      e.writeMany(batches, { sync: true });
      return per_fsync;
    });
  } finally {
    e.close();
  }
}

function scanRate(dir: string, size: number, count: number): number {
  const e = KvEngine.open(join(dir, `scan-${size}`));
  try {
    const value = new Uint8Array(size).fill(5);
    for (let i = 0; i < count; i += 1000) {
      const b = e.newBatch();
      for (let j = i; j < i + 1000; j++) b.put("default", key(j), value);
      e.write(b);
    }
    e.sync();
    const t0 = performance.now();
    let bytes = 0;
    let start = E;
    for (let round = 0; round < count; round++) {
      const rows = e.scan("default", start, E, 1000);
      if (rows.length === 0) break;
      for (const [k, v] of rows) bytes += k.length + v.length;
      const last = rows[rows.length - 1][0];
      start = new Uint8Array([...last, 0]);
    }
    return bytes / 1e6 / ((performance.now() - t0) / 1000);
  } finally {
    e.close();
  }
}

function load(dir: string, keys: number): void {
  const e = KvEngine.open(dir);
  try {
    const value = new Uint8Array(32).fill(9);
    for (let i = 0; i < keys; i += 1000) {
      const b = e.newBatch();
      for (let j = i; j < Math.min(keys, i + 1000); j++) b.put("default", key(j), value);
      e.write(b);
    }
  } finally {
    e.close();
  }
}

/** Child mode: reopen `dir`, report time and heap growth per key as JSON. */
function measureReopen(dir: string): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heap0 = Deno.memoryUsage().heapUsed;
  const t0 = performance.now();
  const e = KvEngine.open(dir);
  const reopen_ms = performance.now() - t0;
  gc?.();
  const heap1 = Deno.memoryUsage().heapUsed;
  const keys = e.stats().keys;
  e.close();
  console.log(JSON.stringify({ reopen_ms, keys, index_bytes_per_key: (heap1 - heap0) / keys }));
}

function reopenInChild(
  dir: string,
): { reopen_ms: number; keys: number; index_bytes_per_key: number } {
  const out = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", import.meta.filename!, "--reopen", dir],
    stderr: "inherit",
  }).outputSync();
  if (!out.success) throw new Error("reopen child failed");
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
}

/** Runs the benchmark; returns the results written to JSON. */
export function main(args: string[]): Record<string, unknown> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: "string", default: "1.5" },
      keys: { type: "string", default: "1000000" },
      reopen: { type: "string" },
    },
  });
  if (values.reopen) {
    measureReopen(values.reopen);
    return {};
  }
  const seconds = Number(values.seconds);
  const keys = Number(values.keys);
  const dir = Deno.makeTempDirSync({ prefix: "eraft-bench-engine-" });
  try {
    const raw: Record<string, number> = {};
    const kv: Record<string, number> = {};
    console.log("engine benchmark (sync writes are fdatasync'd; one batch = one put)\n");
    const raw_group: Record<string, number> = {};
    console.log(
      "value   raw append+fdatasync/s   kv 1/fsync   kv 16/fsync   kv 64/fsync   64 vs raw" +
        "   raw 64-record group ceiling/s",
    );
    for (const size of [128, 4096]) {
      raw[size] = rawFsyncRate(dir, size, seconds);
      for (const n of [1, 16, 64]) kv[`${size}x${n}`] = kvSyncRate(dir, size, n, seconds);
      raw_group[size] = rawGroupRate(dir, size, 64, seconds);
      const f = (x: number) => Math.round(x).toLocaleString("en").padStart(11);
      console.log(
        `${String(size).padEnd(6)}  ${f(raw[size]).padStart(22)}  ${f(kv[`${size}x1`])}  ` +
          `${f(kv[`${size}x16`]).padStart(12)}  ${f(kv[`${size}x64`]).padStart(12)}  ` +
          `${(kv[`${size}x64`] / raw[size]).toFixed(1).padStart(8)}x  ${f(raw_group[size])}`,
      );
    }
    const scan = { "128": scanRate(dir, 128, 200_000), "4096": scanRate(dir, 4096, 20_000) };
    console.log(
      `\nscan MB/s: 128 B values ${scan[128].toFixed(0)}, 4 KiB values ${scan[4096].toFixed(0)}`,
    );
    const t0 = performance.now();
    load(join(dir, "reopen"), keys);
    const load_s = (performance.now() - t0) / 1000;
    const r = reopenInChild(join(dir, "reopen"));
    console.log(
      `${r.keys.toLocaleString("en")} keys (16 B keys, 32 B values): load ${
        load_s.toFixed(1)
      } s, ` +
        `reopen ${(r.reopen_ms / 1000).toFixed(2)} s, index ${
          r.index_bytes_per_key.toFixed(0)
        } B/key`,
    );
    const results = {
      machine: { cpus: navigator.hardwareConcurrency, deno: Deno.version.deno },
      raw_fsync_per_s: raw,
      raw_64_record_group_ceiling_per_s: raw_group,
      kv_sync_writes_per_s: kv,
      group_commit_vs_raw: { "128": kv["128x64"] / raw[128], "4096": kv["4096x64"] / raw[4096] },
      scan_mb_per_s: scan,
      reopen: { ...r, load_s },
      goals: { group_commit_vs_raw_min: 20, reopen_1m_keys_s_max: 3 },
    };
    Deno.mkdirSync("bench-results", { recursive: true });
    Deno.writeTextFileSync("bench-results/engine.json", JSON.stringify(results, null, 2) + "\n");
    console.log("\nwrote bench-results/engine.json");
    return results;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

if (import.meta.main) main(Deno.args);
