/**
 * Raft log records. Each is a frame (record.ts) whose body is:
 *
 *   kind u8 | region_id u64 | term u64 | index u64 | payload
 *
 *   Entry      term, index of the entry; payload = entry_type u8 | data
 *   HardState  term = hs.term, index = hs.commit; payload = vote u64
 *   ConfState  payload = n u32 | node u64 * n | m u32 | learner u64 * m
 *   Compact    index = last compacted index, term = its term (may pass the
 *              last entry: a snapshot was applied and the log emptied)
 *   Destroy    the region is gone from this store
 *
 * A compact binary layout rather than protobuf: fixed offsets, no varints,
 * so entries are decoded without allocation beyond their data.
 * @module
 */
import { ByteReader, type ByteWriter } from "./bytes.ts";
import type { ConfState, Entry, EntryType, HardState } from "@eraft/proto/gen/eraftpb.ts";
import { beginFrame } from "./record.ts";

/** Record kinds. */
export const Kind = { Entry: 1, HardState: 2, ConfState: 3, Compact: 4, Destroy: 5 } as const;
/** A record kind. */
export type Kind = typeof Kind[keyof typeof Kind];

/** Body bytes of an Entry record before its data. */
export const ENTRY_BODY_OVERHEAD_BYTES = 26;

/** A decoded record. `entry_type`/`data` are set for entries only. */
export interface RaftRecord {
  kind: Kind;
  region_id: number;
  term: number;
  index: number;
  entry_type: EntryType;
  data: Uint8Array;
  vote: number;
  conf_state: ConfState | null;
}

function header(w: ByteWriter, kind: Kind, region_id: number, term: number, index: number) {
  w.u8(kind);
  w.u64(region_id);
  w.u64(term);
  w.u64(index);
}

/** Appends an Entry record; returns its frame offset in `w`. */
export function encodeEntry(w: ByteWriter, region_id: number, e: Entry): number {
  const f = beginFrame(w);
  header(w, Kind.Entry, region_id, e.term, e.index);
  w.u8(e.entry_type);
  w.bytes(e.data);
  f.end();
  return f.start;
}

/** Appends a HardState record. */
export function encodeHardState(w: ByteWriter, region_id: number, hs: HardState): void {
  const f = beginFrame(w);
  header(w, Kind.HardState, region_id, hs.term, hs.commit);
  w.u64(hs.vote);
  f.end();
}

/** Appends a ConfState record. */
export function encodeConfState(w: ByteWriter, region_id: number, cs: ConfState): void {
  const f = beginFrame(w);
  header(w, Kind.ConfState, region_id, 0, 0);
  w.u32(cs.nodes.length);
  for (const n of cs.nodes) w.u64(n);
  w.u32(cs.learners.length);
  for (const n of cs.learners) w.u64(n);
  f.end();
}

/** Appends a Compact or Destroy record. */
export function encodeMarker(
  w: ByteWriter,
  kind: typeof Kind.Compact | typeof Kind.Destroy,
  region_id: number,
  term: number,
  index: number,
): void {
  const f = beginFrame(w);
  header(w, kind, region_id, term, index);
  f.end();
}

function u64s(r: ByteReader): number[] {
  const n = r.u32();
  if (n > r.remaining / 8) throw new Error(`bad list length ${n}`);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.u64());
  return out;
}

/** Decodes a record body; `data` is a view into `body`. */
export function decodeRecord(body: Uint8Array): RaftRecord {
  const r = new ByteReader(body);
  const kind = r.u8() as Kind;
  if (kind < Kind.Entry || kind > Kind.Destroy) throw new Error(`bad raft record kind ${kind}`);
  const rec: RaftRecord = {
    kind,
    region_id: r.u64(),
    term: r.u64(),
    index: r.u64(),
    entry_type: 0,
    data: new Uint8Array(0),
    vote: 0,
    conf_state: null,
  };
  if (kind === Kind.Entry) {
    const t = r.u8();
    if (t > 1) throw new Error(`bad entry type ${t}`);
    rec.entry_type = t as EntryType;
    rec.data = r.bytes(r.remaining);
  } else if (kind === Kind.HardState) rec.vote = r.u64();
  else if (kind === Kind.ConfState) {
    rec.conf_state = { nodes: u64s(r), learners: u64s(r) };
  }
  if (r.remaining !== 0) throw new Error(`${r.remaining} trailing bytes in raft record`);
  return rec;
}
