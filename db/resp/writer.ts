/**
 * Serialises {@link Reply} trees to RESP2 or RESP3 bytes, the way Redis 7
 * does (maps flatten, doubles become bulk strings and nulls become $-1/*-1 in
 * RESP2).
 * @module
 */
import { requestBytes, utf8 } from "../encoding/bytes.ts";
import { formatDouble } from "./format.ts";
import type { Reply } from "./reply.ts";

/** Protocol version of a connection. */
export type RespVersion = 2 | 3;

const CRLF = "\r\n";

/** Collects an encoded reply stream in one growing byte buffer. */
export class ReplyBuffer {
  #buf = new Uint8Array(256);
  #len = 0;

  /** Bytes held. */
  get size_bytes(): number {
    return this.#len;
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  /** Appends protocol text: ASCII byte by byte, anything else (an echoed argument) as UTF-8. */
  pushText(s: string): void {
    this.#reserve(s.length);
    const buf = this.#buf;
    const start = this.#len;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.#len = start;
        return this.pushBytes(utf8(s));
      }
      buf[start + i] = c;
    }
    this.#len = start + s.length;
  }

  /** Appends raw bytes. */
  pushBytes(b: Uint8Array): void {
    this.#reserve(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  /** Returns everything appended so far as one byte array and empties the buffer. */
  take(): Uint8Array {
    const out = requestBytes.copy(this.#buf.subarray(0, this.#len));
    this.#len = 0;
    return out;
  }
}

function writeBulk(out: ReplyBuffer, b: Uint8Array): void {
  out.pushText(`$${b.length}${CRLF}`);
  out.pushBytes(b);
  out.pushText(CRLF);
}

function oneLine(s: string): string {
  // Redis replaces newlines in status/error replies so the stream stays valid.
  return s.replace(/[\r\n]/g, " ");
}

/** Encodes `r` onto `out` for protocol version `resp`. */
export function writeReply(out: ReplyBuffer, r: Reply, resp: RespVersion): void {
  switch (r.k) {
    case "simple":
      return out.pushText(`+${oneLine(r.s)}${CRLF}`);
    case "error":
      return out.pushText(`-${oneLine(r.s)}${CRLF}`);
    case "int":
      return out.pushText(`:${r.n}${CRLF}`);
    case "bulk":
      return writeBulk(out, r.b);
    case "null_bulk":
      return out.pushText(resp === 2 ? `$-1${CRLF}` : `_${CRLF}`);
    case "null_array":
      return out.pushText(resp === 2 ? `*-1${CRLF}` : `_${CRLF}`);
    case "array":
    case "set":
      out.pushText(`${r.k === "set" && resp === 3 ? "~" : "*"}${r.a.length}${CRLF}`);
      for (const x of r.a) writeReply(out, x, resp);
      return;
    case "map":
      out.pushText(resp === 3 ? `%${r.m.length}${CRLF}` : `*${r.m.length * 2}${CRLF}`);
      for (const [key, v] of r.m) {
        writeReply(out, key, resp);
        writeReply(out, v, resp);
      }
      return;
    case "double": {
      const s = formatDouble(r.d);
      if (resp === 3) return out.pushText(`,${s}${CRLF}`);
      return writeBulk(out, utf8(s));
    }
    case "bool":
      if (resp === 3) return out.pushText(`#${r.v ? "t" : "f"}${CRLF}`);
      return out.pushText(`:${r.v ? 1 : 0}${CRLF}`);
    case "verbatim": {
      if (resp === 2) return writeBulk(out, utf8(r.s));
      const b = utf8(`${r.fmt}:${r.s}`);
      out.pushText(`=${b.length}${CRLF}`);
      out.pushBytes(b);
      return out.pushText(CRLF);
    }
    case "raw":
      return out.pushBytes(r.b);
  }
}

/** Encodes one reply to bytes. */
export function encodeReply(r: Reply, resp: RespVersion): Uint8Array {
  const out = new ReplyBuffer();
  writeReply(out, r, resp);
  return out.take();
}
