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
import { equal, latin1 } from "./encoding/bytes.ts";
import { metaKey } from "./encoding/keys.ts";
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
}

/** One attempt of one command. */
export class Txn {
  private metas = new Map<string, MetaRead>();
  private written = new Set<string>();
  readonly mutations: Mutation[] = [];
  readonly preconditions: Precondition[] = [];
  /** Backend reads done (read-only commands with several are re-validated). */
  reads = 0;

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
    const decoded = raw ? decodeMetadata(raw) : null;
    const live = decoded && !isExpired(decoded, this.now_ms) ? decoded : null;
    this.metas.set(id, { raw, live });
    this.preconditions.push(
      raw
        ? { kind: PreconditionKind.ValueEquals, cf: CF_DEFAULT, key: mk, value: raw }
        : { kind: PreconditionKind.NotExists, cf: CF_DEFAULT, key: mk, value: new Uint8Array(0) },
    );
  }

  /** Live metadata that must be of `type` (WRONGTYPE otherwise), or null. */
  async metaOf(key: Uint8Array, type: RedisType): Promise<Metadata | null> {
    const m = await this.meta(key);
    if (m && m.type !== type) wrongType();
    return m;
  }

  /** Reads one data record. */
  async get(raw: Uint8Array): Promise<Uint8Array | null> {
    this.reads++;
    return await this.backend.get(CF_DEFAULT, raw);
  }

  /** Reads several data records. */
  async getMany(raws: Uint8Array[]): Promise<Array<Uint8Array | null>> {
    if (raws.length === 0) return [];
    this.reads++;
    return await this.backend.batchGet(CF_DEFAULT, raws);
  }

  /** One page of a range scan. */
  async scan(
    start: Uint8Array,
    end: Uint8Array,
    limit: number,
    reverse = false,
  ): Promise<RawPair[]> {
    this.reads++;
    return await this.backend.scan(CF_DEFAULT, start, end, limit, reverse);
  }

  /** Every pair in [start, end), paged; `max` bounds the total (asserted). */
  async scanAll(start: Uint8Array, end: Uint8Array, max: number): Promise<RawPair[]> {
    const out: RawPair[] = [];
    let from = start;
    for (;;) {
      const page = await this.scan(from, end, SCAN_PAGE);
      out.push(...page);
      if (out.length > max) throw new Error(`scan returned more than the ${max} records expected`);
      if (page.length < SCAN_PAGE) return out;
      const last = page[page.length - 1].key;
      from = new Uint8Array(last.length + 1);
      from.set(last);
    }
  }

  /** Buffers a put of a data record. */
  put(raw: Uint8Array, value: Uint8Array): void {
    this.mutations.push({
      op: MutationOp.Put,
      cf: CF_DEFAULT,
      key: raw,
      value,
      type: 0,
      end_key: new Uint8Array(0),
    });
  }

  /** Buffers a delete of a data record. */
  del(raw: Uint8Array): void {
    this.mutations.push({
      op: MutationOp.Delete,
      cf: CF_DEFAULT,
      key: raw,
      value: new Uint8Array(0),
      type: 0,
      end_key: new Uint8Array(0),
    });
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
    if (this.metas.has(id)) throw new Error("overwriteMeta on a key this command read");
    m.rev = 1 + Math.floor(Math.random() * (Number.MAX_SAFE_INTEGER - 1));
    this.#writeMeta(id, key, m);
  }

  /** Buffers the metadata put and remembers it as what this command now sees. */
  #writeMeta(id: string, key: Uint8Array, m: Metadata): void {
    this.written.add(id);
    const value = encodeMetadata(m);
    this.mutations.push({
      op: MutationOp.Put,
      cf: CF_DEFAULT,
      key: metaKey(key),
      value,
      type: m.type,
      end_key: new Uint8Array(0),
    });
    this.metas.set(id, { raw: value, live: m });
  }

  /** Deletes the key (its data records become garbage for the sweeper). */
  deleteKey(key: Uint8Array): void {
    const id = latin1(key);
    const read = this.metas.get(id);
    if (!read) throw new Error("key deleted without being read first");
    this.written.add(id);
    if (read.raw) this.del(metaKey(key));
    this.metas.set(id, { raw: null, live: null });
  }

  /** Metadata keys read so far with what was read (for read-only re-validation). */
  readSet(): Array<{ key: Uint8Array; raw: Uint8Array | null }> {
    return this.preconditions.map((p) => ({
      key: p.key,
      raw: p.kind === PreconditionKind.ValueEquals ? p.value : null,
    }));
  }
}

async function yieldBriefly(attempt: number): Promise<void> {
  // Back off a little so a racing writer in another process can finish.
  await new Promise((r) => setTimeout(r, Math.min(attempt, 10)));
}

/**
 * Runs a writing command: latches its keys, runs `fn` on a fresh Txn, commits
 * the batch, retries on a failed precondition. Multi-key commands whose keys
 * span regions get a clear error and write nothing.
 */
export async function runWrite(
  db: DbContext,
  keys: Uint8Array[],
  fn: (t: Txn) => Promise<Reply>,
): Promise<Reply> {
  if (keys.length > 1 && !(await db.backend.sameRegion(keys.map(metaKey)))) {
    return err(Errors.crossRegion);
  }
  const release = await db.latches.acquire(keys.map(latin1));
  try {
    for (let attempt = 0; attempt < MAX_TXN_ATTEMPTS; attempt++) {
      const t = new Txn(db.backend, db.now_ms());
      let reply: Reply;
      try {
        reply = await fn(t);
      } catch (e) {
        if (e instanceof CommandError) return e.reply;
        throw e;
      }
      if (t.mutations.length === 0) return reply;
      try {
        const out = await db.backend.batch(t.mutations, t.preconditions);
        if (out.ok) return reply;
      } catch (e) {
        if (e instanceof CrossRegionError) return err(Errors.crossRegion);
        throw e;
      }
      await yieldBriefly(attempt);
    }
    return err("ERR too much contention on the keys of this command, try again");
  } finally {
    release();
  }
}

/**
 * Runs a read-only command. When it needed several backend reads, the
 * metadata it read is re-checked afterwards; a concurrent write (which always
 * changes metadata) makes it run again, so it never returns a torn view.
 */
export async function runRead(db: DbContext, fn: (t: Txn) => Promise<Reply>): Promise<Reply> {
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
    const reads = t.readSet();
    if (t.reads <= 1 || reads.length === 0) return reply;
    const now = await db.backend.batchGet(CF_DEFAULT, reads.map((r) => r.key));
    const same = reads.every((r, i) => {
      const cur = now[i];
      return r.raw === null ? cur === null : cur !== null && equal(cur, r.raw);
    });
    if (same) return reply;
    await yieldBriefly(attempt);
  }
  return err("ERR too much contention on the keys of this command, try again");
}
