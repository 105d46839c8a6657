/**
 * Helpers for raft/ tests (after etcd-io/raft's test `network`): build Raft
 * peers on MemoryStorage and pass messages between them synchronously, with
 * drops, cuts, isolation and ignored message types. Pure and seeded.
 * @module
 */
import type { Entry, Message } from "@eraft/proto/gen/eraftpb.ts";
import { MessageType } from "@eraft/proto/gen/eraftpb.ts";
import { assert } from "./assert.ts";
import type { Config } from "./config.ts";
import { MemoryStorage } from "./memory_storage.ts";
import { Prng } from "./prng.ts";
import { Raft } from "./raft.ts";
import { newEntry, newMessage } from "./util.ts";

/** Bound on messages one `Network.send` call delivers. */
const MAX_DELIVERIES = 1_000_000;

/** Extra config applied to every test raft. */
export type ConfigHook = (c: Config) => void;

/** A Raft peer with the given timeouts on `storage`. */
export function newTestRaft(
  id: number,
  election_timeout_ticks: number,
  heartbeat_timeout_ticks: number,
  storage: MemoryStorage,
  hook?: ConfigHook,
): Raft {
  const c: Config = {
    id,
    election_timeout_ticks,
    heartbeat_timeout_ticks,
    storage,
    max_size_per_msg_bytes: Number.MAX_SAFE_INTEGER,
    max_inflight_msgs: 256,
    rng: new Prng(id * 7919),
  };
  hook?.(c);
  return new Raft(c);
}

/** Entries with the given terms at indexes 1, 2, ... */
export function entriesWithTerms(terms: number[]): Entry[] {
  return terms.map((term, i) => newEntry({ term, index: i + 1 }));
}

/**
 * A peer of a 3-voter ({1,2,3}... `voters`) config whose stored log has the
 * given terms and whose term is the last of them.
 */
export function raftWithLog(
  id: number,
  voters: number[],
  terms: number[],
  hook?: ConfigHook,
): Raft {
  const s = MemoryStorage.withPeers(voters);
  s.append(entriesWithTerms(terms));
  const last_term = terms.length === 0 ? 0 : terms[terms.length - 1];
  s.setHardState({ term: last_term, vote: 0, commit: 0 });
  return newTestRaft(id, 10, 1, s, hook);
}

/** Drains a raft's outgoing messages. */
export function readMessages(r: Raft): Message[] {
  const msgs = r.msgs;
  r.msgs = [];
  return msgs;
}

/** Persists the unstable log into `s` and returns committed entries to apply (marks them applied). */
export function persistAndApply(r: Raft, s: MemoryStorage): Entry[] {
  const log = r.raft_log;
  const unstable = log.unstableEntries();
  if (unstable.length > 0) {
    s.append(unstable);
    const last = unstable[unstable.length - 1];
    log.stableTo(last.index, last.term);
  }
  const ents = log.nextEntries();
  if (ents.length > 0) log.appliedTo(ents[ents.length - 1].index);
  return ents;
}

/** A synchronous in-memory network of Raft peers. */
export class Network {
  /** Peers by id; null is a black hole that swallows messages. */
  readonly peers = new Map<number, Raft | null>();
  readonly storage = new Map<number, MemoryStorage>();
  private readonly drops = new Map<string, number>();
  private readonly ignored = new Set<MessageType>();
  private readonly rng = new Prng(42);
  /** Every delivered message, in order (for tests that inspect traffic). */
  readonly delivered: Message[] = [];

  /**
   * Peers 1..n. An entry that is a Raft is used as is; `null` makes a fresh
   * peer (election 10, heartbeat 1); "hole" makes a black hole.
   */
  constructor(peers: (Raft | null | "hole")[], hook?: ConfigHook) {
    const ids = peers.map((_, i) => i + 1);
    peers.forEach((p, i) => {
      const id = i + 1;
      if (p === "hole") {
        this.peers.set(id, null);
      } else if (p === null) {
        const s = MemoryStorage.withPeers(ids);
        this.storage.set(id, s);
        this.peers.set(id, newTestRaft(id, 10, 1, s, hook));
      } else {
        assert(p.id === id, "network peer ids must be 1..n in order");
        this.peers.set(id, p);
      }
    });
  }

  /** The Raft with id `id` (asserts it is not a black hole). */
  raft(id: number): Raft {
    const r = this.peers.get(id);
    assert(r !== undefined && r !== null, () => `no raft ${id}`);
    return r;
  }

  /** Delivers messages (and every message they cause) until quiet. */
  send(...msgs: Message[]): void {
    const queue = [...msgs];
    for (let n = 0; queue.length > 0; n++) {
      assert(n < MAX_DELIVERIES, "network did not quiesce");
      const m = queue.shift()!;
      const p = this.peers.get(m.to);
      if (p === undefined || p === null) continue;
      this.delivered.push(m);
      p.step(m);
      queue.push(...this.filter(readMessages(p)));
    }
  }

  /** Starts an election at `id` by stepping MsgHup. */
  campaign(id: number): void {
    this.send(newMessage({ msg_type: MessageType.MsgHup, from: id, to: id }));
  }

  /** Proposes `data` at `id`. */
  propose(id: number, data: string): void {
    this.send(newMessage({
      msg_type: MessageType.MsgPropose,
      from: id,
      to: id,
      entries: [newEntry({ data: new TextEncoder().encode(data) })],
    }));
  }

  /** Drops messages from -> to with probability `p`. */
  drop(from: number, to: number, p: number): void {
    this.drops.set(`${from}-${to}`, p);
  }

  /** Cuts the link between `a` and `b` both ways. */
  cut(a: number, b: number): void {
    this.drop(a, b, 2);
    this.drop(b, a, 2);
  }

  /** Cuts `id` off from every other peer. */
  isolate(id: number): void {
    for (const other of this.peers.keys()) if (other !== id) this.cut(id, other);
  }

  /** Drops every message of type `t`. */
  ignore(t: MessageType): void {
    this.ignored.add(t);
  }

  /** Heals every drop and ignore. */
  recover(): void {
    this.drops.clear();
    this.ignored.clear();
  }

  /** Applies drops, cuts and ignores to outgoing messages. */
  filter(msgs: Message[]): Message[] {
    return msgs.filter((m) => {
      if (this.ignored.has(m.msg_type)) return false;
      assert(m.msg_type !== MessageType.MsgHup, "MsgHup must never be sent");
      const p = this.drops.get(`${m.from}-${m.to}`) ?? 0;
      return !(p > 0 && this.rng.nextFloat() < p);
    });
  }
}

/** Deterministic text form of a value (Uint8Array as arrays) for comparisons. */
export function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => x instanceof Uint8Array ? [...x] : x);
}

/** Asserts deep equality (by `show`). */
export function expectEq(actual: unknown, expected: unknown, what: string): void {
  const a = show(actual);
  const e = show(expected);
  assert(a === e, () => `${what}:\n  actual   ${a}\n  expected ${e}`);
}

/** Sorts messages by (to, type) for order-insensitive comparisons. */
export function sortMsgs(msgs: Message[]): Message[] {
  return [...msgs].sort((a, b) => a.to - b.to || a.msg_type - b.msg_type || a.index - b.index);
}

/** A leader's reply accepting an append. */
export function acceptAndReply(m: Message): Message {
  assert(m.msg_type === MessageType.MsgAppend, "acceptAndReply of a non-append");
  return newMessage({
    msg_type: MessageType.MsgAppendResponse,
    from: m.to,
    to: m.from,
    term: m.term,
    index: m.index + m.entries.length,
  });
}

/** Leader: replicates and commits the no-op of its term, as etcd's commitNoopEntry. */
export function commitNoopEntry(r: Raft, s: MemoryStorage): void {
  r.bcastAppend();
  for (const m of readMessages(r)) {
    assert(
      m.msg_type === MessageType.MsgAppend && m.entries.length === 1,
      "expected the no-op append",
    );
    r.step(acceptAndReply(m));
  }
  readMessages(r);
  persistAndApply(r, s);
}

/** Ticks every live peer `ticks` times, delivering what each tick produces. */
export function tickAll(nt: Network, ticks: number): void {
  for (let t = 0; t < ticks; t++) {
    for (const p of nt.peers.values()) {
      if (p === null) continue;
      p.tick();
      nt.send(...nt.filter(readMessages(p)));
    }
  }
}

/** Ids of the peers that are leaders. */
export function leaders(nt: Network): number[] {
  const out: number[] = [];
  for (const [id, p] of nt.peers) if (p !== null && p.state === 2) out.push(id);
  return out;
}
