/**
 * Background maintenance of the keyspace, bounded per tick:
 * - active expiry: deletes keys whose expiry has passed, found by their
 *   expiry markers (keys.ts), and drops stale markers;
 * - garbage collection: deletes data generations no live metadata points to
 *   (left behind by DEL, overwrite, expiry — which is why DEL is O(1)).
 * It walks the keyspace by key only: metadata is read for keys with data
 * records or an expiry marker, never for a plain string without TTL. Keys given a
 * TTL by a version before the markers existed expire on access only.
 * Every delete carries a precondition that the key's metadata is still what
 * the sweeper saw, so it never races a writer into damage.
 * @module
 */
import {
  CF_DEFAULT,
  CrossRegionError,
  type Mutation,
  MutationOp,
  type Precondition,
  PreconditionKind,
} from "./backend.ts";
import { concat, latin1, u64 } from "./encoding/bytes.ts";
import {
  decodeRawKey,
  metaKey,
  rangeEnd,
  type RawKeyInfo,
  TAG_DATA,
  TAG_SCORE,
  ttlKey,
  USER_SPACE_END,
  USER_SPACE_START,
} from "./encoding/keys.ts";
import { decodeMetadata, isExpired, RedisType } from "./encoding/metadata.ts";
import { sweeperDone } from "./metrics.ts";
import type { DbContext } from "./txn.ts";

/** Sweeper settings. */
export interface SweeperOptions {
  /** Pause between ticks while they find work. */
  interval_ms: number;
  /**
   * Longest pause: each tick that finds nothing to expire or collect doubles
   * the pause up to this, so an idle keyspace is not rescanned all the time
   * (a full scan reads every record from the stores' disks).
   */
  idle_interval_ms: number;
  /** Raw records examined per tick (the bound on one tick's work). */
  max_records_per_tick: number;
}

const DEFAULTS: SweeperOptions = {
  interval_ms: 100,
  idle_interval_ms: 2_000,
  max_records_per_tick: 512,
};

/** Result of one tick. */
export interface TickResult {
  expired: number;
  collected_generations: number;
  /** Stale expiry markers removed (of keys deleted, persisted or given a new expiry). */
  dropped_markers: number;
  /** True when the tick reached the end of the keyspace (the next starts over). */
  wrapped: boolean;
}

const none = new Uint8Array(0);

/** Active expiry and garbage collection. */
export class Sweeper {
  private readonly opts: SweeperOptions;
  private cursor: Uint8Array = USER_SPACE_START;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  #pause_ms: number;

  constructor(private readonly db: DbContext, opts: Partial<SweeperOptions>) {
    this.opts = { ...DEFAULTS, ...opts };
    this.opts.idle_interval_ms = Math.max(this.opts.idle_interval_ms, this.opts.interval_ms);
    this.#pause_ms = this.opts.interval_ms;
  }

  /** The pause before the next tick (for tests). */
  get pause_ms(): number {
    return this.#pause_ms;
  }

  /** Starts periodic ticks. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.step().then(() => {}, (e) => console.error("db sweeper:", e)).finally(
        () => {
          this.running = null;
          this.schedule();
        },
      );
    }, this.#pause_ms);
  }

  /** One tick, then the pause before the next: doubled when it found nothing to do. */
  async step(): Promise<TickResult> {
    const r = await this.tick();
    this.#pause_ms = r.expired + r.collected_generations + r.dropped_markers > 0
      ? this.opts.interval_ms
      : Math.min(this.#pause_ms * 2, this.opts.idle_interval_ms);
    return r;
  }

  /** Stops ticking and waits for a tick in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.running) await this.running;
  }

  /**
   * Examines up to max_records_per_tick records from the cursor, by key alone
   * (a key-only scan: the stores read no value). Metadata is read only for
   * keys with data records or an expiry marker, so a keyspace of plain
   * strings without TTLs costs an index walk per tick.
   */
  async tick(): Promise<TickResult> {
    const res: TickResult = {
      expired: 0,
      collected_generations: 0,
      dropped_markers: 0,
      wrapped: false,
    };
    const page = await this.db.backend.scan(
      CF_DEFAULT,
      this.cursor,
      USER_SPACE_END,
      this.opts.max_records_per_tick,
      false,
      true,
    );
    if (page.length < this.opts.max_records_per_tick) res.wrapped = true;
    const now = this.db.now_ms();
    const records = page.map(({ key }) => decodeRawKey(key)).filter(actionable);
    const metas = await this.#readMetas(records.map((info) => info.user_key));
    const done_gens = new Set<string>();
    for (const info of records) {
      const id = latin1(info.user_key);
      const raw = metas.get(id) ?? null;
      if (info.kind === "ttl") {
        const outcome = await this.#marker(info.user_key, raw, now);
        if (outcome === "expired") {
          res.expired++;
          metas.set(id, null); // the key's later records (score index) are garbage now
        } else if (outcome === "dropped") res.dropped_markers++;
        continue;
      }
      const live = raw ? decodeMetadata(raw) : null;
      const live_version = live && live.type !== RedisType.String && !isExpired(live, now)
        ? live.version
        : -1;
      const gen_id = `${info.kind}:${info.version}:${id}`;
      if (info.version === live_version || done_gens.has(gen_id)) continue;
      done_gens.add(gen_id);
      const tag = info.kind === "data" ? TAG_DATA : TAG_SCORE;
      const start = concat(metaKey(info.user_key), new Uint8Array([tag]), u64(info.version));
      if (await this.apply([range(start, rangeEnd(start))], [guard(info.user_key, raw)])) {
        res.collected_generations++;
      }
    }
    this.cursor = res.wrapped || page.length === 0
      ? USER_SPACE_START
      : concat(page[page.length - 1].key, new Uint8Array([0]));
    sweeperDone(res);
    return res;
  }

  /** The stored metadata of each distinct user key (null: none), read in one batch. */
  async #readMetas(user_keys: Uint8Array[]): Promise<Map<string, Uint8Array | null>> {
    const distinct = new Map(user_keys.map((k) => [latin1(k), k]));
    const metas = new Map<string, Uint8Array | null>();
    if (distinct.size === 0) return metas;
    const raws = await this.db.backend.batchGet(CF_DEFAULT, [...distinct.values()].map(metaKey));
    [...distinct.keys()].forEach((id, i) => metas.set(id, raws[i]));
    return metas;
  }

  /**
   * An expiry marker: when the key's metadata (`raw`) has expired, deletes it
   * with the marker ("expired"); when the key is gone or has no TTL any more
   * (deleted, persisted, overwritten), the marker goes alone ("dropped"); a
   * TTL still ahead leaves both. Only if the metadata is still what was read;
   * null when nothing was done.
   */
  async #marker(
    user_key: Uint8Array,
    raw: Uint8Array | null,
    now: number,
  ): Promise<"expired" | "dropped" | null> {
    const marker = del(ttlKey(user_key));
    const m = raw ? decodeMetadata(raw) : null;
    if (m !== null && isExpired(m, now)) {
      const ok = await this.apply([del(metaKey(user_key)), marker], [guard(user_key, raw)]);
      return ok ? "expired" : null;
    }
    if (m !== null && m.expire_at_ms > 0) return null;
    return await this.apply([marker], [guard(user_key, raw)]) ? "dropped" : null;
  }

  private async apply(m: Mutation[], p: Precondition[]): Promise<boolean> {
    try {
      return (await this.db.backend.batch(m, p)).ok;
    } catch (e) {
      if (e instanceof CrossRegionError) return false; // a split moved it; next round
      throw e;
    }
  }
}

/** A record of a user key the sweeper may have work for. */
type KeyRecord = Exclude<RawKeyInfo, { kind: "meta" | "other" }>;

/** Data and score records (maybe garbage) and expiry markers. */
function actionable(info: RawKeyInfo): info is KeyRecord {
  return info.kind === "data" || info.kind === "score" || info.kind === "ttl";
}

function del(key: Uint8Array): Mutation {
  return { op: MutationOp.Delete, cf: CF_DEFAULT, key, value: none, type: 0, end_key: none };
}
function range(key: Uint8Array, end_key: Uint8Array): Mutation {
  return { op: MutationOp.DeleteRange, cf: CF_DEFAULT, key, value: none, type: 0, end_key };
}
/** The key's metadata is still `raw` (null: still absent). */
function guard(user_key: Uint8Array, raw: Uint8Array | null): Precondition {
  const key = metaKey(user_key);
  return raw
    ? { kind: PreconditionKind.ValueEquals, cf: CF_DEFAULT, key, value: raw }
    : { kind: PreconditionKind.NotExists, cf: CF_DEFAULT, key, value: none };
}
