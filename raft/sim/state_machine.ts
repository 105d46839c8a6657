/**
 * The simulator's replicated state machine: the ordered list of applied
 * proposal ids plus a rolling digest of every applied entry, snapshotable.
 * @module
 */
import type { ConfState, Entry } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "../assert.ts";

/** State of one node's state machine. */
export interface SmState {
  applied_index: number;
  applied_term: number;
  /** Proposal ids in apply order. */
  ids: number[];
  /** Rolling hash over (index, term, type, data) of every applied entry. */
  digest: number;
  conf_state: ConfState;
}

/** An empty state machine with membership `cs`. */
export function emptySm(cs: ConfState): SmState {
  return { applied_index: 0, applied_term: 0, ids: [], digest: 0, conf_state: cloneCs(cs) };
}

/** Copy of a ConfState. */
export function cloneCs(cs: ConfState): ConfState {
  return { nodes: [...cs.nodes], learners: [...cs.learners] };
}

/** Encodes a proposal id as entry data. */
export function encodeProposal(id: number): Uint8Array {
  return new TextEncoder().encode(`p${id}`);
}

/** Decodes entry data written by `encodeProposal` (null for empty data). */
export function decodeProposal(data: Uint8Array): number | null {
  if (data.byteLength === 0) return null;
  const s = new TextDecoder().decode(data);
  assert(s.startsWith("p"), () => `unexpected proposal data ${s}`);
  return Number(s.slice(1));
}

/** Digest step for one entry (FNV-1a style, 32-bit). */
export function digestEntry(prev: number, e: Entry): number {
  let h = (prev ^ 0x811c9dc5) >>> 0;
  const mix = (x: number) => {
    h = Math.imul(h ^ (x & 0xff), 0x01000193) >>> 0;
  };
  for (const x of [e.index, e.term, e.entry_type]) {
    for (let k = 0; k < 4; k++) mix(Math.floor(x / 2 ** (8 * k)));
  }
  for (const b of e.data) mix(b);
  return h;
}

/** Serializes the state machine into snapshot data. */
export function encodeSm(sm: SmState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(sm));
}

/** Restores a state machine from snapshot data. */
export function decodeSm(data: Uint8Array): SmState {
  const sm = JSON.parse(new TextDecoder().decode(data)) as SmState;
  assert(Array.isArray(sm.ids) && typeof sm.digest === "number", "bad snapshot data");
  return sm;
}
