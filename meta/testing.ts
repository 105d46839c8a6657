/**
 * Helpers for meta's unit tests: region and store builders and a seeded PRNG.
 * @module
 */
import type * as metapb from "@eraft/proto/gen/metapb.ts";

const te = new TextEncoder();

/** Bytes of a string. */
export function b(s: string): Uint8Array {
  return te.encode(s);
}

/** A region over `[start, end)` with peers `[peer id, store id]`. */
export function region(
  id: number,
  start: string,
  end: string,
  peers: Array<[number, number]>,
  epoch: { conf_ver: number; version: number } = { conf_ver: 1, version: 1 },
): metapb.Region {
  return {
    id,
    start_key: b(start),
    end_key: b(end),
    region_epoch: { ...epoch },
    peers: peers.map(([pid, sid]) => ({ id: pid, store_id: sid, addr: `s${sid}`, role: 0 })),
  };
}

/** An Up store. */
export function store(id: number): metapb.Store {
  return { id, address: `s${id}`, state: 0, version: "0.1.0", start_timestamp_ms: 0 };
}

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A voter peer. */
export function peer(id: number, store_id: number): metapb.Peer {
  return { id, store_id, addr: `s${store_id}`, role: 0 };
}
