/**
 * Optimistic transactions over a {@link Backend}. A command reads the
 * metadata of the keys it touches (each read becomes a precondition: the
 * record is unchanged / still absent), buffers its writes, and commits them
 * as one atomic batch. Every write bumps the key's metadata `rev`, so "the
 * metadata is unchanged" means "nothing of this key changed". On a failed
 * precondition the command re-runs from scratch, a bounded number of times.
 * @module
 */
import {
  type Backend,
  CF_DEFAULT,
  CrossRegionError,
  type Mutation,
  MutationOp,
  type Precondition,
  PreconditionKind,
  type RawPair,
} from "./backend.ts";
import assert from "node:assert/strict";
import { compare, EMPTY_BYTES, equal, latin1 } from "./encoding/bytes.ts";
import { metaKey, ttlKey } from "./encoding/keys.ts";
import {
  decodeMetadata,
  encodeMetadata,
  isExpired,
  type Metadata,
  type RedisType,
} from "./encoding/metadata.ts";
import type { Latches } from "./latch.ts";
import { err, Errors, type Reply } from "./resp/reply.ts";

/** Attempts per command before giving up on contention. */
export const MAX_TXN_ATTEMPTS = 16;
/** Page size of scans done inside commands. */
export const SCAN_PAGE = 256;
/** Data records one Txn remembers having read. */
const MAX_CACHED_READS = 65_536;
/** Largest page of a scan whose record count is known in advance. */
const MAX_SCAN_PAGE = 4096;

/** Most commands on one key folded into one group commit. */
export const MAX_GROUP_COMMANDS = 128;

/**
 * Raised inside a group commit when a command would scan records that an
 * earlier command of the same group has written but not yet committed: the
 * group commits what it has and the command runs first in the next group.
 */
class FlushNeeded extends Error {
  constructor() {
    super("a scan overlaps writes of an earlier command in the group");
    this.name = "FlushNeeded";
  }
}

/** A command failure carrying its Redis error reply; aborts the transaction. */
export class CommandError extends Error {
  constructor(readonly reply: Reply) {
    super(reply.k === "error" ? reply.s : "command error");
  }
}

/** Throws the WRONGTYPE error. */
export function wrongType(): never {
  throw new CommandError(err(Errors.wrongType));
}

interface MetaRead {
  raw: Uint8Array | null;
  live: Metadata | null;
}

/** What commands need besides their arguments. */
export interface DbContext {
  backend: Backend;
  latches: Latches;
  /** Wall clock in ms (injectable for tests). */
  now_ms(): number;
  /** Largest string value a command may create (proto-max-bulk-len). */
  max_bulk_bytes: number;
  /**
   * Set while EXEC runs a transaction's commands (db/multi.ts): runWrite,
   * runRead and readMeta then run on this Txn, which EXEC commits once.
   */
  exec?: Txn;
}

/** Where a command of a group started, to undo its writes if it fails. */
export interface Savepoint {
  mutations: number;
  undo: number;
}

/**
 * One attempt of one command, or of a group of commands on one key run one
 * after another (see {@link runWrite}). Reads see the writes buffered before
 * them, so the commands of a group behave as if each had committed alone.
 */
export class Txn {
  private metas = new Map<string, MetaRead>();
  private written = new Set<string>();
  /** Buffered data-record writes (null = delete) by raw key, with the command that made them. */
  #overlay = new Map<string, { value: Uint8Array | null; raw: Uint8Array; command: number }>();
  /** Data records read from the store by this Txn (null = absent), by raw key. */
  #read_cache = new Map<string, Uint8Array | null>();
  /** Closures restoring the state before each write, for {@link rollback}. */
  #undo: Array<() => void> = [];
  #command = 0;
  readonly mutations: Mutation[] = [];
  readonly preconditions: Precondition[] = [];
  /** Backend reads done (read-only commands with several are re-validated). */
  reads = 0;
  /** Commands this Txn runs (a group commit's size): a hint for reading ahead. */
  group_size = 1;
  /**
   * Scans merge the writes buffered by earlier commands (EXEC's commands must
   * see each other's writes: it cannot split into several batches as a group
   * commit does).
   */
  merge_scans = false;

  constructor(readonly backend: Backend, readonly now_ms: number) {}

  /** Live metadata of `key` (null if absent or expired); records a precondition. */
  async meta(key: Uint8Array): Promise<Metadata | null> {
    const id = latin1(key);
    const known = this.metas.get(id);
    if (known) return known.live;
    if (this.written.has(id)) throw new Error("metadata read after write in one txn");
    const mk = metaKey(key);
    const raw = await this.backend.get(CF_DEFAULT, mk);
    this.reads++;
    this.remember(id, mk, raw);
    return this.metas.get(id)!.live;
  }

  /**
   * Requires `key`'s metadata record to still be `raw` (null: absent) when
   * this Txn commits: WATCH. Call before any read (EXEC tells a WATCH abort
   * by the failed precondition's index).
   */
  expectMeta(key: Uint8Array, raw: Uint8Array | null): void {
    this.preconditions.push(metaPrecondition(metaKey(key), raw));
  }

  /**
   * For a Txn that wrote nothing: reads every precondition's record again and
   * returns the index of the first that no longer holds, or null (a read-only
   * command's or EXEC's check that what it read was one state).
   */
  async firstChangedRead(): Promise<number | null> {
    if (this.preconditions.length === 0) return null;
    const now = await this.backend.batchGet(CF_DEFAULT, this.preconditions.map((p) => p.key));
    const i = this.preconditions.findIndex((p, i) =>
      p.kind === PreconditionKind.NotExists ? now[i] !== null : !(now[i] && equal(now[i]!, p.value))
    );
    return i === -1 ? null : i;
  }

  /** Reads several keys' metadata with one batch get. */
  async metaMany(keys: Uint8Array[]): Promise<Array<Metadata | null>> {
    const todo = keys.filter((k) => !this.metas.has(latin1(k)));
    if (todo.length > 0) {
      const mks = todo.map(metaKey);
      const raws = await this.backend.batchGet(CF_DEFAULT, mks);
      this.reads++;
      todo.forEach((k, i) => this.remember(latin1(k), mks[i], raws[i]));
    }
    return keys.map((k) => this.metas.get(latin1(k))!.live);
  }

  private remember(id: string, mk: Uint8Array, raw: Uint8Array | null): void {
    if (this.metas.has(id)) return;
    this.metas.set(id, { raw, live: liveMetadata(raw, this.now_ms) });
    this.preconditions.push(metaPrecondition(mk, raw));
  }

  /** Live metadata that must be of `type` (WRONGTYPE otherwise), or null. */
  async metaOf(key: Uint8Array, type: RedisType): Promise<Metadata | null> {
    const m = await this.meta(key);
    if (m && m.type !== type) wrongType();
    return m;
  }

  /**
   * Reads one data record: a write buffered earlier in this Txn, else a record
   * already read by it, else the store. Caching reads is sound for the Txn's
   * life: its commit is conditional on the key's metadata, which every write
   * of the key changes.
   */
  async get(raw: Uint8Array): Promise<Uint8Array | null> {
    return (await this.getMany([raw]))[0];
  }

  /** True when {@link get} of `raw` would be answered without the store. */
  isLocal(raw: Uint8Array): boolean {
    const id = latin1(raw);
    return this.#overlay.has(id) || this.#read_cache.has(id);
  }

  /** Reads several data records (see {@link get}). */
  async getMany(raws: Uint8Array[]): Promise<Array<Uint8Array | null>> {
    if (raws.length === 0) return [];
    const out: Array<Uint8Array | null> = new Array(raws.length).fill(null);
    const missing: number[] = [];
    raws.forEach((raw, i) => {
      const id = latin1(raw);
      const buffered = this.#overlay.get(id);
      if (buffered) out[i] = buffered.value;
      else if (this.#read_cache.has(id)) out[i] = this.#read_cache.get(id)!;
      else missing.push(i);
    });
    if (missing.length === 0) return out;
    this.reads++;
    const keys = missing.map((i) => raws[i]);
    const read = keys.length === 1
      ? [await this.backend.get(CF_DEFAULT, keys[0])]
      : await this.backend.batchGet(CF_DEFAULT, keys);
    missing.forEach((i, j) => {
      out[i] = read[j];
      if (this.#read_cache.size < MAX_CACHED_READS) this.#read_cache.set(latin1(raws[i]), read[j]);
    });
    return out;
  }

  /** One page of a range scan. */
  async scan(
    start: Uint8Array,
    end: Uint8Array,
    limit: number,
    reverse = false,
  ): Promise<RawPair[]> {
    if (this.merge_scans) return await this.#mergedScan(start, end, limit, reverse);
    this.#checkScanIsClean(start, end);
    this.reads++;
    return await this.backend.scan(CF_DEFAULT, start, end, limit, reverse);
  }

  /**
   * One page of the store's records in [start, end) with this Txn's buffered
   * writes applied. The store is asked for `limit` more records than there
   * are buffered deletes in the range, so a full page still holds `limit`
   * records up to its last key after the deletes: buffered puts past that key
   * sort after them and fall off the page, to come in a later one.
   */
  async #mergedScan(
    start: Uint8Array,
    end: Uint8Array,
    limit: number,
    reverse: boolean,
  ): Promise<RawPair[]> {
    const inside = (raw: Uint8Array) =>
      compare(raw, start) >= 0 && (end.length === 0 || compare(raw, end) < 0);
    const writes = [...this.#overlay.values()].filter((w) => inside(w.raw));
    const deletes = writes.filter((w) => w.value === null).length;
    const asked = limit + deletes;
    this.reads++;
    const page = await this.backend.scan(CF_DEFAULT, start, end, asked, reverse);
    const merged = new Map(page.map((p) => [latin1(p.key), p]));
    for (const w of writes) {
      if (w.value === null) merged.delete(latin1(w.raw));
      else merged.set(latin1(w.raw), { key: w.raw, value: w.value });
    }
    const out = [...merged.values()].sort((a, b) => compare(a.key, b.key));
    if (reverse) out.reverse();
    return out.slice(0, limit);
  }

  /**
   * A scan does not merge buffered writes: a command scanning a range it wrote
   * itself sees the committed state (what commands were written for), and one
   * scanning writes of an earlier command of its group is moved to the next
   * group.
   */
  #checkScanIsClean(start: Uint8Array, end: Uint8Array): void {
    for (const w of this.#overlay.values()) {
      if (w.command === this.#command) continue;
      if (compare(w.raw, start) >= 0 && (end.length === 0 || compare(w.raw, end) < 0)) {
        throw new FlushNeeded();
      }
    }
  }

  /**
   * Every pair in [start, end), paged; `max` bounds the total (asserted). The
   * caller knows how many records to expect (a collection's size), so one page
   * of max + 1 usually answers it in one round trip.
   */
  async scanAll(start: Uint8Array, end: Uint8Array, max: number): Promise<RawPair[]> {
    const out: RawPair[] = [];
    const page_size = Math.min(max + 1, MAX_SCAN_PAGE);
    let from = start;
    for (;;) {
      const page = await this.scan(from, end, page_size);
      out.push(...page);
      if (out.length > max) throw new Error(`scan returned more than the ${max} records expected`);
      if (page.length < page_size) return out;
      const last = page[page.length - 1].key;
      from = new Uint8Array(last.length + 1);
      from.set(last);
    }
  }

  /** Buffers a put of a data record. */
  put(raw: Uint8Array, value: Uint8Array): void {
    this.#buffer(raw, value);
    this.#push(MutationOp.Put, raw, value);
  }

  /** Buffers a delete of a data record. */
  del(raw: Uint8Array): void {
    this.#buffer(raw, null);
    this.#push(MutationOp.Delete, raw);
  }

  /** Adds a mutation of cf default to the batch (the overlay is the caller's business). */
  #push(op: MutationOp, key: Uint8Array, value = EMPTY_BYTES, type = 0): void {
    this.mutations.push({ op, cf: CF_DEFAULT, key, value, type, end_key: EMPTY_BYTES });
  }

  /** Writes `m` as the key's metadata, bumping its rev. The key must have been read. */
  setMeta(key: Uint8Array, m: Metadata): void {
    const id = latin1(key);
    const read = this.metas.get(id);
    if (!read) throw new Error("metadata written without being read first");
    const stored_rev = read.raw ? decodeMetadata(read.raw).rev : 0;
    m.rev = Math.max(m.rev, stored_rev) + 1;
    this.#writeMeta(id, key, m);
  }

  /**
   * Replaces the key's metadata without reading it first (a plain SET: the old
   * value, whatever its type, does not matter; its data records become garbage
   * for the sweeper). No precondition, so one RPC instead of two. `rev` is
   * random rather than old + 1: it must only differ from the stored one so that
   * concurrent read-modify-write commands see the change; a 2^-53 collision
   * would need identical bytes, i.e. an unchanged state.
   */
  overwriteMeta(key: Uint8Array, m: Metadata): void {
    const id = latin1(key);
    m.rev = 1 + Math.floor(Math.random() * (Number.MAX_SAFE_INTEGER - 1));
    this.#writeMeta(id, key, m);
  }

  /** Buffers the metadata put and remembers it as what this command now sees. */
  #writeMeta(id: string, key: Uint8Array, m: Metadata): void {
    const before = this.metas.get(id);
    this.#rememberForUndo(id);
    const value = encodeMetadata(m);
    this.#push(MutationOp.Put, metaKey(key), value, m.type);
    this.#keepExpiryMarker(key, before, m.expire_at_ms);
    this.metas.set(id, { raw: value, live: m });
  }

  /**
   * Keeps the key's expiry marker (keys.ts) beside its metadata: put when the
   * key gets a TTL it did not have (or whose old metadata was not read: a
   * plain SET EX), deleted when a key read with a TTL loses it. A plain SET
   * without TTL leaves an old marker alone: the sweeper drops it. Markers are
   * never read through a Txn, so they bypass the overlay.
   */
  #keepExpiryMarker(key: Uint8Array, before: MetaRead | undefined, expire_at_ms: number): void {
    // Expired metadata reads as none: its marker is the sweeper's.
    const old_ms = before === undefined ? null : before.live?.expire_at_ms ?? 0;
    if (old_ms === expire_at_ms) return;
    let op: MutationOp;
    if (expire_at_ms > 0) op = MutationOp.Put;
    else if (old_ms !== null && old_ms > 0) op = MutationOp.Delete;
    else return;
    this.#push(op, ttlKey(key));
  }

  /** Deletes the key (its data records become garbage for the sweeper). */
  deleteKey(key: Uint8Array): void {
    const id = latin1(key);
    const read = this.metas.get(id);
    if (!read) throw new Error("key deleted without being read first");
    this.#rememberForUndo(id);
    if (read.raw) this.del(metaKey(key));
    this.#keepExpiryMarker(key, read, 0);
    this.metas.set(id, { raw: null, live: null });
  }

  /** Records how to restore the metadata view of `id`, then marks it written. */
  #rememberForUndo(id: string): void {
    const read = this.metas.get(id);
    const was_written = this.written.has(id);
    this.#undo.push(() => {
      if (read) this.metas.set(id, read);
      else this.metas.delete(id);
      if (!was_written) this.written.delete(id);
    });
    this.written.add(id);
  }

  #buffer(raw: Uint8Array, value: Uint8Array | null): void {
    const id = latin1(raw);
    const before = this.#overlay.get(id);
    this.#undo.push(() => {
      if (before) this.#overlay.set(id, before);
      else this.#overlay.delete(id);
    });
    this.#overlay.set(id, { value, raw, command: this.#command });
  }

  /** Starts the next command of a group; returns where to roll back to if it fails. */
  beginCommand(): Savepoint {
    this.#command++;
    return { mutations: this.mutations.length, undo: this.#undo.length };
  }

  /**
   * Undoes the writes buffered since `sp` (a failed command of a group). Its
   * reads stay: they are facts about the store and keep their preconditions.
   */
  rollback(sp: Savepoint): void {
    assert(sp.undo <= this.#undo.length && sp.mutations <= this.mutations.length);
    while (this.#undo.length > sp.undo) this.#undo.pop()!();
    this.mutations.length = sp.mutations;
  }

  /** Metadata keys read so far with what was read (for read-only re-validation). */
  readSet(): Array<{ key: Uint8Array; raw: Uint8Array | null }> {
    return this.preconditions.map((p) => ({
      key: p.key,
      raw: p.kind === PreconditionKind.ValueEquals ? p.value : null,
    }));
  }
}

/** The precondition that metadata record `mk` is still `raw` (null: absent). */
function metaPrecondition(mk: Uint8Array, raw: Uint8Array | null): Precondition {
  return raw
    ? { kind: PreconditionKind.ValueEquals, cf: CF_DEFAULT, key: mk, value: raw }
    : { kind: PreconditionKind.NotExists, cf: CF_DEFAULT, key: mk, value: EMPTY_BYTES };
}

/** One command of an EXEC on the transaction's Txn: no latch, no commit (EXEC does both). */
async function runOnExec(t: Txn, fn: (t: Txn) => Promise<Reply>): Promise<Reply> {
  try {
    return await fn(t);
  } catch (e) {
    if (e instanceof CommandError) return e.reply;
    throw e;
  }
}

async function yieldBriefly(attempt: number): Promise<void> {
  // Back off a little so a racing writer in another process can finish.
  await new Promise((r) => setTimeout(r, Math.min(attempt, 10)));
}

/**
 * Runs a writing command: latches its keys, runs `fn` on a fresh Txn, commits
 * the batch, retries on a failed precondition. Multi-key commands whose keys
 * span regions get a clear error and write nothing. Commands on one key that
 * arrive while an earlier one is in flight are folded into one group commit
 * (see {@link runGroup}), so a hot key costs one store round trip per group
 * rather than per command.
 */
export async function runWrite(
  db: DbContext,
  keys: Uint8Array[],
  fn: (t: Txn) => Promise<Reply>,
): Promise<Reply> {
  if (db.exec) return await runOnExec(db.exec, fn);
  if (keys.length === 1 || keys.every((k) => equal(k, keys[0]))) {
    return await enqueueSingleKeyWrite(db, keys[0], fn);
  }
  if (keys.length > 1 && !(await db.backend.sameRegion(keys.map(metaKey)))) {
    return err(Errors.crossRegion);
  }
  const release = await db.latches.acquire(keys.map(latin1));
  try {
    return await new Promise<Reply>((resolve, reject) => {
      runGroup(db, [{ fn, resolve, reject }]).then((done) => {
        if (!done) resolve(err(TOO_MUCH_CONTENTION));
      }, reject);
    });
  } finally {
    release();
  }
}

const TOO_MUCH_CONTENTION = "ERR too much contention on the keys of this command, try again";

/** One write command waiting in its key's queue. */
export interface QueuedWrite {
  fn: (t: Txn) => Promise<Reply>;
  resolve(reply: Reply): void;
  reject(e: unknown): void;
}

function enqueueSingleKeyWrite(
  db: DbContext,
  key: Uint8Array,
  fn: (t: Txn) => Promise<Reply>,
): Promise<Reply> {
  const id = latin1(key);
  return new Promise<Reply>((resolve, reject) => {
    const queue = db.latches.write_queues.get(id);
    if (queue) {
      queue.push({ fn, resolve, reject });
      return;
    }
    const fresh: QueuedWrite[] = [{ fn, resolve, reject }];
    db.latches.write_queues.set(id, fresh);
    drainKeyQueue(db, id, fresh);
  });
}

/**
 * Runs the queue of one key until it is empty, a group at a time, holding the
 * key's latch (so multi-key commands on the key wait for the whole drain).
 */
async function drainKeyQueue(db: DbContext, id: string, queue: QueuedWrite[]): Promise<void> {
  const release = db.latches.tryAcquireOne(id) ?? await db.latches.acquire([id]);
  try {
    while (queue.length > 0) {
      const group = queue.splice(0, MAX_GROUP_COMMANDS);
      try {
        // Commands already answered ignore the second resolve.
        if (!(await runGroup(db, group))) {
          for (const w of group) w.resolve(err(TOO_MUCH_CONTENTION));
        }
      } catch (e) {
        for (const w of group) w.reject(e);
      }
    }
  } finally {
    db.latches.write_queues.delete(id);
    release();
  }
}

/**
 * Runs `group` in order on one Txn per attempt and commits it as one batch,
 * resolving each command with its own reply once its writes are committed. A
 * command that fails has its writes undone and gets its error alone. A command
 * that must see an earlier one's writes through a scan starts the next batch.
 * Returns false when contention outlasted MAX_TXN_ATTEMPTS (the unanswered
 * commands are left to the caller); throws when a commit's outcome is unknown.
 */
async function runGroup(db: DbContext, group: QueuedWrite[]): Promise<boolean> {
  let todo = group;
  for (let attempt = 0; attempt < MAX_TXN_ATTEMPTS && todo.length > 0;) {
    const t = new Txn(db.backend, db.now_ms());
    t.group_size = todo.length;
    const replies: Reply[] = [];
    const failures = new Map<number, unknown>();
    for (const w of todo) {
      const sp = t.beginCommand();
      try {
        replies.push(await w.fn(t));
      } catch (e) {
        t.rollback(sp);
        if (e instanceof FlushNeeded && replies.length > 0) break;
        if (e instanceof CommandError) replies.push(e.reply);
        else {
          failures.set(replies.length, e); // an unreachable store: this command alone fails
          replies.push(err(TOO_MUCH_CONTENTION));
        }
      }
    }
    if (t.mutations.length > 0) {
      let committed;
      try {
        committed = await db.backend.batch(t.mutations, t.preconditions);
      } catch (e) {
        if (!(e instanceof CrossRegionError)) throw e;
        committed = { ok: true as const };
        replies.fill(err(Errors.crossRegion));
      }
      if (!committed.ok) {
        await yieldBriefly(attempt++);
        continue;
      }
    }
    replies.forEach((reply, i) => {
      const failure = failures.get(i);
      if (failure !== undefined) todo[i].reject(failure);
      else todo[i].resolve(reply);
    });
    todo = todo.slice(replies.length);
    attempt = 0;
  }
  return todo.length === 0;
}

/**
 * The live metadata of one key read alone, without a Txn: one read is a
 * snapshot by itself. For read-only commands that need one record and
 * nothing else (GET, STRLEN, GETRANGE); expiry is judged at the read's start,
 * as a Txn does.
 */
export async function readMeta(db: DbContext, key: Uint8Array): Promise<Metadata | null> {
  if (db.exec) return await db.exec.meta(key);
  const now_ms = db.now_ms();
  return liveMetadata(await db.backend.get(CF_DEFAULT, metaKey(key)), now_ms);
}

/** A stored metadata record decoded, or null when absent or expired at `now_ms`. */
function liveMetadata(raw: Uint8Array | null, now_ms: number): Metadata | null {
  if (raw === null) return null;
  const m = decodeMetadata(raw);
  return isExpired(m, now_ms) ? null : m;
}

/**
 * Runs a read-only command. When it needed several backend reads, the
 * metadata it read is re-checked afterwards; a concurrent write (which always
 * changes metadata) makes it run again, so it never returns a torn view.
 */
export async function runRead(db: DbContext, fn: (t: Txn) => Promise<Reply>): Promise<Reply> {
  if (db.exec) return await runOnExec(db.exec, fn);
  for (let attempt = 0; attempt < MAX_TXN_ATTEMPTS; attempt++) {
    const t = new Txn(db.backend, db.now_ms());
    let reply: Reply;
    try {
      reply = await fn(t);
    } catch (e) {
      if (e instanceof CommandError) return e.reply;
      throw e;
    }
    if (t.mutations.length !== 0) throw new Error("read-only command buffered writes");
    if (t.reads <= 1) return reply; // one read is a snapshot by itself
    if ((await t.firstChangedRead()) === null) return reply;
    await yieldBriefly(attempt);
  }
  return err("ERR too much contention on the keys of this command, try again");
}
