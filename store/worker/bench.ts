/**
 * `deno task bench apply`: what applying committed writes costs one replica,
 * in one process on one thread, without the cluster around it. Apply runs on
 * all three replicas of every SET, and in the cluster's profile it is the
 * largest share of a store's CPU; there, one build's runs differ by ±30% from
 * minute to minute, so a change to apply that saves 10% of it cannot be seen.
 * Here the same seeded entries go through `applyEntries` on every run.
 *
 * The entries are shaped like the db's merged SETs (redis-benchmark -r 100000
 * -d 100): each member one Put of a string's metadata record (a 17-byte key
 * among 100k, a 110-byte value) under its own request id, so each entry also
 * writes a deduplication record of its members. The engine is first warmed
 * with `warm` mutations, so the key tree holds the user keys and the records a
 * busy store keeps.
 * Printed per members-per-entry (1, 13 as the cluster's SET c=50 proposals,
 * 156 as its -P 16 ones): µs per mutation and per entry, the median of the
 * rounds. Writes `bench-results/apply.json`.
 *
 * Usage: deno run -A store/worker/bench.ts [--warm 200000] [--mutations 60000]
 * [--rounds 5] [--seed 1]
 * @module
 */
import assert from "node:assert/strict";
import { parseArgs } from "node:util";
import type { Entry } from "@eraft/proto/gen/eraftpb.ts";
import { EntryType } from "@eraft/proto/gen/eraftpb.ts";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import { MutationOp } from "@eraft/proto/gen/kvrpcpb.ts";
import type * as metapb from "@eraft/proto/gen/metapb.ts";
import { Prng } from "@eraft/raft";
import { applyEntries } from "./apply.ts";
import { encodeCmd } from "./codec.ts";
import { decodeRecord, forEachRecord } from "./dedup.ts";
import type { Peer } from "./peer.ts";
import { RAFT_INIT_LOG_TERM } from "./peer.ts";
import { testWorkerConfig } from "./testing.ts";
import { RegionWorker } from "./worker.ts";
import { median } from "../../tasks/ab.ts";

/** Distinct user keys the entries write (redis-benchmark's -r). */
export const KEY_SPACE = 100_000;
/** Bytes of each Put's value: a string's metadata record around a 100-byte value. */
const VALUE_BYTES = 110;

/** One measured shape. */
export interface ApplyResult {
  members_per_entry: number;
  /** Median over the rounds. */
  us_per_mutation: number;
  us_per_entry: number;
}

/** What one run measures. */
export interface ApplyOptions {
  /** Mutations applied before measuring (13 per entry). */
  warm: number;
  /** Mutations per round and shape. */
  mutations: number;
  rounds: number;
  /** Members per entry, one measurement each. */
  shapes: number[];
  seed: number;
}

/**
 * A one-replica region on a worker that is never started: no ticks, no
 * loop of its own, so only the entries given to `applyEntries` change it.
 */
class Replica {
  readonly worker: RegionWorker;
  readonly peer: Peer;

  constructor(dir: string) {
    this.worker = new RegionWorker(testWorkerConfig(1, dir), () => {});
    const region: metapb.Region = {
      id: 1,
      start_key: new Uint8Array(0),
      end_key: new Uint8Array(0),
      region_epoch: { conf_ver: 1, version: 1 },
      peers: [{ id: 1, store_id: 1, addr: "store-1", role: 0 }],
    };
    this.worker.handle({ kind: "bootstrap", region });
    this.peer = this.worker.peers.get(region.id)!;
  }

  /** Stops the worker; resolves once its engines are closed. */
  async close(): Promise<void> {
    this.worker.stop();
    await this.worker.closed();
  }
}

/** Seeded entries of merged SETs, numbered from the replica's next index. */
class EntryMaker {
  readonly #rng: Prng;
  /** Every Put's value. */
  readonly value = new Uint8Array(VALUE_BYTES).fill(120);
  readonly #now_ms = Date.now();
  /** Indexes of the user keys written (each must hold `value` in the engine). */
  readonly written = new Set<number>();

  constructor(seed: number, readonly replica: Replica) {
    this.#rng = new Prng(seed);
  }

  /** `count` entries of `members` mutations each, after the replica's applied index. */
  entries(count: number, members: number): Entry[] {
    const peer = this.replica.peer;
    let index = peer.applied_index;
    const out: Entry[] = [];
    for (let e = 0; e < count; e++) {
      const mutations: kvrpcpb.Mutation[] = [];
      const ids: kvrpcpb.BatchMember[] = [];
      for (let m = 0; m < members; m++) {
        const k = this.#rng.intBelow(KEY_SPACE);
        mutations.push({
          op: MutationOp.Put,
          cf: "",
          key: userKey(k),
          value: this.value,
          type: 1,
          end_key: new Uint8Array(0),
        });
        this.written.add(k);
        // 53 random bits, as the db's request ids.
        const id = (this.#rng.nextU32() & 0x1fffff) * 2 ** 32 + this.#rng.nextU32();
        ids.push({ id, issued_at_ms: this.#now_ms, mutation_count: 1 });
      }
      const header = {
        region_id: peer.region_id,
        peer: peer.self,
        region_epoch: peer.region.region_epoch,
        term: RAFT_INIT_LOG_TERM,
        request_id: 0,
        issued_at_ms: 0,
        proposed_at_ms: this.#now_ms,
      };
      out.push({
        entry_type: EntryType.EntryNormal,
        term: RAFT_INIT_LOG_TERM,
        index: ++index,
        data: encodeCmd({ header, mutations, preconditions: [], members: ids }),
      });
    }
    return out;
  }
}

/** The metadata-record key of user key `key:<k>` (the db's string keys in -r mode). */
export function userKey(k: number): Uint8Array {
  return new TextEncoder().encode(`\x01key:${String(k).padStart(12, "0")}`);
}

/** Applies `entries` one at a time, as the worker loop does; returns the ms taken. */
function applyTimed(replica: Replica, entries: Entry[]): number {
  const t0 = performance.now();
  for (const entry of entries) applyEntries(replica.worker, replica.peer, [entry]);
  return performance.now() - t0;
}

/**
 * Measures apply per shape on engines in `dir`, and checks that every entry
 * applied: the index reached the last entry, every member is held by a dedup
 * record (none was taken for a retry), and every key written holds the
 * value.
 */
export async function measureApply(dir: string, opts: ApplyOptions): Promise<ApplyResult[]> {
  const replica = new Replica(dir);
  try {
    const engines = replica.worker.engines;
    const maker = new EntryMaker(opts.seed, replica);
    let members_applied = 0;
    const run = (entries: Entry[], members: number) => {
      const ms = applyTimed(replica, entries);
      members_applied += entries.length * members;
      assert.equal(replica.peer.applied_index, entries[entries.length - 1].index);
      return ms;
    };
    run(maker.entries(Math.max(1, Math.ceil(opts.warm / 13)), 13), 13);
    const times = new Map<number, number[]>(opts.shapes.map((s) => [s, []]));
    for (let round = 0; round < opts.rounds; round++) {
      for (const members of opts.shapes) {
        const entries = maker.entries(Math.max(1, Math.ceil(opts.mutations / members)), members);
        times.get(members)!.push(run(entries, members) / entries.length);
      }
    }
    // Every member applied is held by a dedup record (one per entry; dedup.ts).
    let recorded = 0;
    forEachRecord(engines.kv, (key, value) => recorded += decodeRecord(key, value).members.length);
    assert.equal(recorded, members_applied, "a member was skipped as a retry");
    for (const k of maker.written) {
      assert.deepEqual(engines.kv.get("default", userKey(k))?.subarray(-VALUE_BYTES), maker.value);
    }
    return opts.shapes.map((members) => {
      const us_per_entry = median(times.get(members)!) * 1000;
      return { members_per_entry: members, us_per_mutation: us_per_entry / members, us_per_entry };
    });
  } finally {
    await replica.close();
  }
}

function positive(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer`);
  return n;
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      warm: { type: "string", default: "200000" },
      mutations: { type: "string", default: "60000" },
      rounds: { type: "string", default: "5" },
      seed: { type: "string", default: "1" },
    },
  });
  const opts: ApplyOptions = {
    warm: positive("warm", values.warm),
    mutations: positive("mutations", values.mutations),
    rounds: positive("rounds", values.rounds),
    shapes: [1, 13, 156],
    seed: positive("seed", values.seed),
  };
  const dir = await Deno.makeTempDir({ prefix: "eraft-bench-apply-" });
  try {
    console.log(
      `apply benchmark: ${opts.warm} mutations to warm, then ${opts.rounds} rounds of ` +
        `${opts.mutations} per shape (seed ${opts.seed})\n`,
    );
    console.log("members/entry   µs/mutation   µs/entry");
    const results = await measureApply(dir, opts);
    for (const r of results) {
      console.log(
        `${String(r.members_per_entry).padStart(13)}   ${
          r.us_per_mutation.toFixed(2).padStart(11)
        }` +
          `   ${r.us_per_entry.toFixed(1).padStart(8)}`,
      );
    }
    await Deno.mkdir("bench-results", { recursive: true });
    await Deno.writeTextFile(
      "bench-results/apply.json",
      JSON.stringify({ options: opts, results }, null, 2) + "\n",
    );
    console.log("\nwrote bench-results/apply.json");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) await main(Deno.args);
