/**
 * Small helpers over the eraftpb shapes: complete message/entry constructors
 * (every scalar field present, so a message goes on the wire unchanged), size
 * accounting and message classification.
 * @module
 */
import type { ConfState, Entry, HardState, Message, Snapshot } from "@eraft/proto/gen/eraftpb.ts";
import { EntryType, MessageType } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "./assert.ts";

/** Node id 0 means "nobody" (no leader, no vote). */
export const NONE = 0;

/** Per-entry bookkeeping bytes counted on top of `data` when limiting sizes. */
export const ENTRY_OVERHEAD_BYTES = 16;

const EMPTY_BYTES = new Uint8Array(0);

/** A message with every field present; `fields` overrides the defaults. */
export function newMessage(fields: Partial<Message> & { msg_type: MessageType }): Message {
  return {
    msg_type: fields.msg_type,
    to: fields.to ?? NONE,
    from: fields.from ?? NONE,
    term: fields.term ?? 0,
    log_term: fields.log_term ?? 0,
    index: fields.index ?? 0,
    entries: fields.entries ?? [],
    commit: fields.commit ?? 0,
    snapshot: fields.snapshot ?? null,
    reject: fields.reject ?? false,
    reject_hint: fields.reject_hint ?? 0,
    context: fields.context ?? EMPTY_BYTES,
  };
}

/** A complete entry. */
export function newEntry(fields: Partial<Entry>): Entry {
  return {
    entry_type: fields.entry_type ?? EntryType.EntryNormal,
    term: fields.term ?? 0,
    index: fields.index ?? 0,
    data: fields.data ?? EMPTY_BYTES,
  };
}

/** A complete, empty snapshot (index 0). */
export function emptySnapshot(): Snapshot {
  return {
    data: EMPTY_BYTES,
    metadata: { conf_state: { nodes: [], learners: [] }, index: 0, term: 0 },
  };
}

/** Index of a snapshot (0 when it has no metadata). */
export function snapIndex(snap: Snapshot | null | undefined): number {
  return snap?.metadata?.index ?? 0;
}

/** Term of a snapshot (0 when it has no metadata). */
export function snapTerm(snap: Snapshot | null | undefined): number {
  return snap?.metadata?.term ?? 0;
}

/** Membership recorded in a snapshot. */
export function snapConfState(snap: Snapshot | null | undefined): ConfState {
  const cs = snap?.metadata?.conf_state;
  return { nodes: [...(cs?.nodes ?? [])], learners: [...(cs?.learners ?? [])] };
}

/** True for a missing snapshot or one at index 0. */
export function isEmptySnap(snap: Snapshot | null | undefined): boolean {
  return snapIndex(snap) === 0;
}

/** The all-zero hard state. */
export function emptyHardState(): HardState {
  return { term: 0, vote: NONE, commit: 0 };
}

/** Field-wise equality of hard states. */
export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** Bytes an entry counts for in size limits. */
export function entrySizeBytes(e: Entry): number {
  return e.data.byteLength + ENTRY_OVERHEAD_BYTES;
}

/** Summed size of entries. */
export function entriesSizeBytes(ents: readonly Entry[]): number {
  let total = 0;
  for (const e of ents) total += entrySizeBytes(e);
  return total;
}

/**
 * The longest prefix of `ents` whose summed size stays within
 * `max_size_bytes`, but never fewer than one entry.
 */
export function limitSize(ents: Entry[], max_size_bytes: number): Entry[] {
  if (ents.length <= 1) return ents;
  let size = entrySizeBytes(ents[0]);
  let limit = 1;
  for (; limit < ents.length; limit++) {
    size += entrySizeBytes(ents[limit]);
    if (size > max_size_bytes) break;
  }
  return limit === ents.length ? ents : ents.slice(0, limit);
}

/** Messages the host creates and steps locally; they never cross the network. */
export function isLocalMsg(t: MessageType): boolean {
  return t === MessageType.MsgHup || t === MessageType.MsgBeat ||
    t === MessageType.MsgUnreachable || t === MessageType.MsgSnapStatus ||
    t === MessageType.MsgCheckQuorum;
}

/** Responses (they never carry a newer leader's authority). */
export function isResponseMsg(t: MessageType): boolean {
  return t === MessageType.MsgAppendResponse || t === MessageType.MsgRequestVoteResponse ||
    t === MessageType.MsgHeartbeatResponse || t === MessageType.MsgUnreachable ||
    t === MessageType.MsgRequestPreVoteResponse;
}

/** The response type of a (pre-)vote request. */
export function voteRespMsgType(t: MessageType): MessageType {
  if (t === MessageType.MsgRequestVote) return MessageType.MsgRequestVoteResponse;
  assert(t === MessageType.MsgRequestPreVote, () => `not a vote message: ${t}`);
  return MessageType.MsgRequestPreVoteResponse;
}

/** Byte-wise equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A string key for a byte string (read-index request contexts). */
export function bytesKey(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.byteLength; i++) s += b[i].toString(16).padStart(2, "0");
  return s;
}

/** A readable name for a message type, for assertion messages and traces. */
export function msgTypeName(t: MessageType): string {
  for (const [name, value] of Object.entries(MessageType)) if (value === t) return name;
  return `MsgType(${t})`;
}
