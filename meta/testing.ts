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
  return {
    id,
    address: `s${id}`,
    frame_address: "",
    state: 0,
    version: "0.1.0",
    start_timestamp_ms: 0,
  };
}

import { prng } from "@eraft/shared/testing";
import { encodeKvPairs } from "@eraft/store";
export { prng };

/** A voter peer. */
export function peer(id: number, store_id: number): metapb.Peer {
  return { id, store_id, addr: `s${store_id}`, role: 0 };
}

/** An in-memory meta region: get, scan and write with preconditions, like a worker. */
export function memoryRegion(): {
  request: (req: import("./storage.ts").KvRequest) => Promise<import("./storage.ts").KvResponse>;
  data: Map<string, Uint8Array>;
  down: { value: boolean };
} {
  const data = new Map<string, Uint8Array>();
  const down = { value: false };
  const hex = (k: Uint8Array) => [...k].map((x) => x.toString(16).padStart(2, "0")).join("");
  const unhex = (h: string) => new Uint8Array(h.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);
  const request = (req: import("./storage.ts").KvRequest) => {
    if (down.value) return Promise.resolve({ region_error: { message: "not leader" } });
    if (req.op === "get") {
      const v = data.get(hex(req.key));
      return Promise.resolve(v ? { value: v } : { not_found: true });
    }
    if (req.op === "scan") {
      const lo = hex(req.start_key);
      const hi = hex(req.end_key);
      const keys = [...data.keys()].filter((k) => k >= lo && (hi === "" || k < hi)).sort()
        .slice(0, req.limit);
      const found = keys.map((k) => ({ key: unhex(k), value: data.get(k)!, type: 0 }));
      return Promise.resolve({ pairs: encodeKvPairs(found) });
    }
    for (const p of req.preconditions) {
      const v = data.get(hex(p.key));
      const ok = p.kind === 1
        ? v === undefined
        : p.kind === 2
        ? v !== undefined
        : v !== undefined && hex(v) === hex(p.value);
      if (!ok) return Promise.resolve({ precondition_failed: true });
    }
    for (const m of req.mutations) {
      if (m.op === 0) data.set(hex(m.key), new Uint8Array(m.value));
      else data.delete(hex(m.key));
    }
    return Promise.resolve({});
  };
  return { request, data, down };
}
