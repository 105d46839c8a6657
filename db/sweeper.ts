/**
 * Background maintenance of the keyspace, bounded per tick:
 * - active expiry: deletes metadata records whose expiry has passed;
 * - garbage collection: deletes data generations no live metadata points to
 *   (left behind by DEL, overwrite, expiry — which is why DEL is O(1)).
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
import { concat, u64 } from "./encoding/bytes.ts";
import {
  decodeRawKey,
  metaKey,
  rangeEnd,
  TAG_DATA,
  TAG_SCORE,
  USER_SPACE_END,
  USER_SPACE_START,
} from "./encoding/keys.ts";
import { decodeMetadata, isExpired, RedisType } from "./encoding/metadata.ts";
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
    this.#pause_ms = r.expired + r.collected_generations > 0
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

  /** Examines up to max_records_per_tick records from the cursor. */
  async tick(): Promise<TickResult> {
    const res: TickResult = { expired: 0, collected_generations: 0, wrapped: false };
    const page = await this.db.backend.scan(
      CF_DEFAULT,
      this.cursor,
      USER_SPACE_END,
      this.opts.max_records_per_tick,
      false,
    );
    if (page.length < this.opts.max_records_per_tick) res.wrapped = true;
    const now = this.db.now_ms();
    // Metadata seen in this page, by user key (latin1 not needed: compare raw meta keys).
    let cur_key: Uint8Array | null = null;
    let cur_raw: Uint8Array | null = null;
    const done_gens = new Set<string>();
    for (const { key, value } of page) {
      const info = decodeRawKey(key);
      if (info.kind === "other") continue;
      if (info.kind === "meta") {
        cur_key = info.user_key;
        cur_raw = value;
        const m = decodeMetadata(value);
        if (
          isExpired(m, now) &&
          await this.apply([del(metaKey(info.user_key))], [equals(metaKey(info.user_key), value)])
        ) {
          res.expired++;
          cur_raw = null;
        }
        continue;
      }
      const same_key = cur_key !== null && equalBytes(cur_key, info.user_key);
      if (!same_key) {
        // Data whose metadata was not in this page: fetch it.
        cur_key = info.user_key;
        cur_raw = await this.db.backend.get(CF_DEFAULT, metaKey(info.user_key));
      }
      const live = cur_raw ? decodeMetadata(cur_raw) : null;
      const live_version = live && live.type !== RedisType.String && !isExpired(live, now)
        ? live.version
        : -1;
      const gen_id = `${info.kind}:${info.version}:${info.user_key.join(",")}`;
      if (info.version === live_version || done_gens.has(gen_id)) continue;
      done_gens.add(gen_id);
      const tag = info.kind === "data" ? TAG_DATA : TAG_SCORE;
      const start = concat(metaKey(info.user_key), new Uint8Array([tag]), u64(info.version));
      const guard = cur_raw
        ? equals(metaKey(info.user_key), cur_raw)
        : absent(metaKey(info.user_key));
      if (await this.apply([range(start, rangeEnd(start))], [guard])) res.collected_generations++;
    }
    this.cursor = res.wrapped || page.length === 0
      ? USER_SPACE_START
      : concat(page[page.length - 1].key, new Uint8Array([0]));
    return res;
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

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
function del(key: Uint8Array): Mutation {
  return { op: MutationOp.Delete, cf: CF_DEFAULT, key, value: none, type: 0, end_key: none };
}
function range(key: Uint8Array, end_key: Uint8Array): Mutation {
  return { op: MutationOp.DeleteRange, cf: CF_DEFAULT, key, value: none, type: 0, end_key };
}
function equals(key: Uint8Array, value: Uint8Array): Precondition {
  return { kind: PreconditionKind.ValueEquals, cf: CF_DEFAULT, key, value };
}
function absent(key: Uint8Array): Precondition {
  return { kind: PreconditionKind.NotExists, cf: CF_DEFAULT, key, value: none };
}
