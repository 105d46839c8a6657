/**
 * Streaming request parser: RESP multibulk (`*N\r\n$L\r\n...`) and inline
 * commands, fed chunk by chunk. Mirrors Redis's networking.c
 * (processMultibulkBuffer / processInlineBuffer), including its error texts.
 * A parse error is final: the connection must reply and close.
 * @module
 */
import { parseI64Number } from "./int.ts";
import { splitInlineArgs } from "./inline.ts";
import { requestBytes } from "../encoding/bytes.ts";

/** Limits on what one request may contain. */
export interface ParserLimits {
  /** Largest bulk argument (Redis proto-max-bulk-len, 512 MiB). */
  max_bulk_bytes: number;
  /** Largest number of arguments in one multibulk request. */
  max_multibulk_len: number;
  /** Largest inline request line, and largest `*N`/`$N` header (Redis: 64 KiB). */
  max_inline_bytes: number;
}

/** Defaults equal to Redis's. */
export const DEFAULT_PARSER_LIMITS: ParserLimits = {
  max_bulk_bytes: 512 * 1024 * 1024,
  max_multibulk_len: 2 ** 31 - 1,
  max_inline_bytes: 64 * 1024,
};

/** One parse step's outcome. */
export type ParseResult =
  | { kind: "command"; args: Uint8Array[] }
  | { kind: "error"; message: string };

const CR = 0x0d;
const LF = 0x0a;

/** Incremental parser for one connection. */
export class RequestParser {
  private buf = new Uint8Array(16 * 1024);
  private start = 0;
  private end = 0;
  /** Arguments still expected in the current multibulk (0 = between requests). */
  private mb_remaining = 0;
  private args: Uint8Array[] = [];
  /** Length of the bulk being read, or -1 while waiting for its `$N` header. */
  private bulk_len = -1;
  private failed = false;
  /** While true, Redis's small "unauthenticated" size limits apply. */
  auth_required = false;

  constructor(private readonly limits: ParserLimits = DEFAULT_PARSER_LIMITS) {}

  /** Bytes received but not yet consumed. */
  get buffered_bytes(): number {
    return this.end - this.start + this.args.reduce((a, x) => a + x.length, 0);
  }

  /** Appends received bytes. */
  push(chunk: Uint8Array): void {
    if (this.start === this.end) this.start = this.end = 0;
    const need = this.end + chunk.length;
    if (need > this.buf.length) {
      const live = this.end - this.start;
      if (live + chunk.length <= this.buf.length / 2) {
        this.buf.copyWithin(0, this.start, this.end);
      } else {
        const grown = new Uint8Array(Math.max(this.buf.length * 2, live + chunk.length));
        grown.set(this.buf.subarray(this.start, this.end));
        this.buf = grown;
      }
      this.start = 0;
      this.end = live;
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** The next complete request, an error, or null when more bytes are needed. */
  next(): ParseResult | null {
    if (this.failed) throw new Error("parser used after a protocol error");
    for (;;) {
      if (this.mb_remaining === 0 && this.start === this.end) return null;
      let r: ParseResult | null | "skip";
      if (this.mb_remaining === 0 && this.buf[this.start] !== 0x2a /* '*' */) {
        r = this.inline();
      } else {
        r = this.multibulk();
      }
      if (r === "skip") continue;
      if (r && r.kind === "error") this.failed = true;
      return r;
    }
  }

  private findCR(from: number): number {
    const i = this.buf.indexOf(CR, from);
    return i >= 0 && i < this.end ? i : -1;
  }

  private inline(): ParseResult | null | "skip" {
    const rel = this.buf.subarray(this.start, this.end).indexOf(LF);
    if (rel < 0) {
      if (this.end - this.start > this.limits.max_inline_bytes) {
        return { kind: "error", message: "Protocol error: too big inline request" };
      }
      return null;
    }
    let line_end = this.start + rel;
    if (line_end > this.start && this.buf[line_end - 1] === CR) line_end--;
    const args = splitInlineArgs(this.buf.subarray(this.start, line_end));
    this.start += rel + 1;
    if (args === null) {
      return { kind: "error", message: "Protocol error: unbalanced quotes in request" };
    }
    if (args.length === 0) return "skip";
    return { kind: "command", args };
  }

  /**
   * Reads `<prefix>N\r\n` at start; returns N (NaN when it is not an int64),
   * null (need more) or an error.
   */
  private header(too_big: string): number | null | ParseResult {
    const cr = this.findCR(this.start);
    if (cr < 0) {
      if (this.end - this.start > this.limits.max_inline_bytes) {
        return { kind: "error", message: `Protocol error: ${too_big}` };
      }
      return null;
    }
    if (cr + 1 >= this.end) return null; // the LF has not arrived yet
    const v = parseI64Number(this.buf, this.start + 1, cr);
    this.start = cr + 2;
    return v;
  }

  private multibulk(): ParseResult | null | "skip" {
    if (this.mb_remaining === 0) {
      const h = this.header("too big mbulk count string");
      if (h === null || typeof h === "object") return h;
      if (Number.isNaN(h) || h > this.limits.max_multibulk_len) {
        return { kind: "error", message: "Protocol error: invalid multibulk length" };
      }
      if (h <= 0) return "skip";
      if (this.auth_required && h > 10) {
        return { kind: "error", message: "Protocol error: unauthenticated multibulk length" };
      }
      this.mb_remaining = h;
      this.args = [];
    }
    while (this.mb_remaining > 0) {
      if (this.bulk_len < 0) {
        if (this.start === this.end) return null;
        const cr = this.findCR(this.start);
        if (cr >= 0 && this.buf[this.start] !== 0x24 /* '$' */ && cr + 1 < this.end) {
          const got = String.fromCharCode(this.buf[this.start]);
          return { kind: "error", message: `Protocol error: expected '$', got '${got}'` };
        }
        const h = this.header("too big bulk count string");
        if (h === null || typeof h === "object") return h;
        if (Number.isNaN(h) || h < 0 || h > this.limits.max_bulk_bytes) {
          return { kind: "error", message: "Protocol error: invalid bulk length" };
        }
        if (this.auth_required && h > 16384) {
          return { kind: "error", message: "Protocol error: unauthenticated bulk length" };
        }
        this.bulk_len = h;
      }
      // Like Redis, the two bytes after the payload are skipped, not checked.
      if (this.end - this.start < this.bulk_len + 2) return null;
      this.args.push(requestBytes.copy(this.buf.subarray(this.start, this.start + this.bulk_len)));
      this.start += this.bulk_len + 2;
      this.bulk_len = -1;
      this.mb_remaining--;
    }
    const args = this.args;
    this.args = [];
    return { kind: "command", args };
  }
}
