/**
 * Byte-string helpers shared by every member: keys are Uint8Arrays ordered
 * bytewise (memcmp order), as in TiKV.
 * @module
 */

/** memcmp order: negative, zero or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/** True when `key` is in [start, end); an empty `end` means +infinity. */
export function inRange(key: Uint8Array, start: Uint8Array, end: Uint8Array): boolean {
  return compareBytes(key, start) >= 0 && (end.length === 0 || compareBytes(key, end) < 0);
}

/** True when [a_start, a_end) and [b_start, b_end) share a key (empty end = +infinity). */
export function rangesOverlap(
  a_start: Uint8Array,
  a_end: Uint8Array,
  b_start: Uint8Array,
  b_end: Uint8Array,
): boolean {
  const a_before_b = a_end.length > 0 && compareBytes(a_end, b_start) <= 0;
  const b_before_a = b_end.length > 0 && compareBytes(b_end, a_start) <= 0;
  return !a_before_b && !b_before_a;
}

/** Printable form of a key for logs and errors: ASCII as is, other bytes as \xNN. */
export function formatKey(key: Uint8Array, max_chars = 64): string {
  let out = "";
  for (const b of key) {
    out += b >= 0x20 && b < 0x7f && b !== 0x5c
      ? String.fromCharCode(b)
      : `\\x${b.toString(16).padStart(2, "0")}`;
    if (out.length >= max_chars) return out + "…";
  }
  return out;
}

/**
 * The key `text` names in formatKey's form: `\xNN` is byte NN, every other
 * character its own byte (a key printed whole reads back as itself). Throws
 * on a character above U+00FF or a broken escape.
 */
export function parseKey(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c && text[i + 1] === "x") {
      const hex = text.slice(i + 2, i + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Error(`bad escape at ${i} in key ${text}`);
      out.push(parseInt(hex, 16));
      i += 3;
    } else if (c > 0xff) {
      throw new Error(`key ${text}: character ${text[i]} is not a byte (write \\xNN)`);
    } else out.push(c);
  }
  return Uint8Array.from(out);
}

/** The bytes of `parts`, one after another, in one new array. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * Exact-size copies of many byte arrays inside one buffer, for messages posted
 * between threads. Structured clone copies each distinct ArrayBuffer once and
 * allocates a new one per buffer on the receiving side (~1.5 µs each in Deno,
 * measured: 32 arrays cost 55-72 µs a message, 32 views of one buffer 24 µs);
 * views into one arena cost one. A view into a larger buffer (a decoded
 * protobuf field points into its whole frame) would clone that whole buffer.
 */
export class ByteArena {
  readonly #buf: Uint8Array;
  #used_bytes = 0;

  /** An arena of exactly `size_bytes`; the copies must fill it at most. */
  constructor(size_bytes: number) {
    this.#buf = new Uint8Array(size_bytes);
  }

  /** An arena sized for `parts` (null/undefined count as empty). */
  static for(parts: Iterable<Uint8Array | null | undefined>): ByteArena {
    let size_bytes = 0;
    for (const p of parts) size_bytes += p?.length ?? 0;
    return new ByteArena(size_bytes);
  }

  /** A copy of `bytes` (null/undefined: empty) as a view into the arena. */
  copy(bytes: Uint8Array | null | undefined): Uint8Array {
    const out = this.take(bytes?.length ?? 0);
    if (out.length > 0) out.set(bytes!);
    return out;
  }

  /** `size_bytes` zeroed bytes of the arena, as a view (a buffer built in place). */
  take(size_bytes: number): Uint8Array {
    const start = this.#used_bytes;
    if (start + size_bytes > this.#buf.length) {
      throw new RangeError(
        `ByteArena: ${start + size_bytes} bytes into an arena of ${this.#buf.length}`,
      );
    }
    this.#used_bytes = start + size_bytes;
    return this.#buf.subarray(start, start + size_bytes);
  }

  /** Bytes copied so far. */
  get used_bytes(): number {
    return this.#used_bytes;
  }
}

/**
 * Small byte arrays carved out of shared slabs, the way protobufjs's
 * `util.pool` does. Every `new Uint8Array(n)` or `slice` makes a new
 * ArrayBuffer with its own backing store, which costs ~0.45 µs in Deno 2.9
 * (measured: 20-byte `slice` 426 ns, `subarray` 37 ns) plus its share of
 * the garbage collector's work; a request's arguments, keys and replies need
 * several each. A slab is never written twice, so what `alloc` returns is
 * zero-filled and no other caller's bytes. A view keeps its whole slab alive:
 * for bytes that die with their request, not for long-lived caches. Never post
 * a view to a worker: structured clone copies the whole slab.
 */
export class BytePool {
  #slab: Uint8Array;
  #used_bytes = 0;

  /** Arrays up to `max_pooled_bytes` come from slabs of `slab_bytes`; larger ones are their own. */
  constructor(readonly slab_bytes = 64 * 1024, readonly max_pooled_bytes = 2048) {
    if (!(max_pooled_bytes > 0 && slab_bytes >= max_pooled_bytes)) {
      throw new RangeError(`BytePool: slab ${slab_bytes} bytes for arrays of ${max_pooled_bytes}`);
    }
    this.#slab = new Uint8Array(slab_bytes);
  }

  /** A zero-filled array of `size_bytes`. */
  alloc(size_bytes: number): Uint8Array {
    if (size_bytes > this.max_pooled_bytes) return new Uint8Array(size_bytes);
    if (this.#used_bytes + size_bytes > this.slab_bytes) {
      this.#slab = new Uint8Array(this.slab_bytes);
      this.#used_bytes = 0;
    }
    const start = this.#used_bytes;
    this.#used_bytes = start + size_bytes;
    return this.#slab.subarray(start, start + size_bytes);
  }

  /** A copy of `bytes`. */
  copy(bytes: Uint8Array): Uint8Array {
    const out = this.alloc(bytes.length);
    out.set(bytes);
    return out;
  }
}

/**
 * The empty byte string, shared: `new Uint8Array(0)` costs ~0.3 µs in Deno
 * (a new ArrayBuffer), and nothing can be written into zero bytes.
 */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** Writes a u32 as 4 big-endian bytes at `at` (no DataView: one costs ~0.13 µs to make). */
export function writeU32BE(buf: Uint8Array, at: number, n: number): void {
  buf[at] = n >>> 24;
  buf[at + 1] = (n >>> 16) & 0xff;
  buf[at + 2] = (n >>> 8) & 0xff;
  buf[at + 3] = n & 0xff;
}

const TWO_POW_32 = 0x1_0000_0000;

/** Bytes a protobuf varint of `n` (a non-negative safe integer) takes. */
export function varintBytes(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/** Writes `n` (a non-negative safe integer) as a varint at `out[at..]`; returns the index after it. */
export function putVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

/** Bytes of a length-delimited protobuf field with a one-byte tag: tag, length varint, payload. */
export function lenFieldBytes(payload_bytes: number): number {
  return 1 + varintBytes(payload_bytes) + payload_bytes;
}

/**
 * Writes the length-delimited field `tag` (one byte) holding `payload` at
 * `out[at..]`; returns the index after it.
 */
export function putLenField(out: Uint8Array, at: number, tag: number, payload: Uint8Array): number {
  out[at] = tag;
  at = putVarint(out, at + 1, payload.length);
  out.set(payload, at);
  return at + payload.length;
}

/**
 * Writes a non-negative safe integer as 8 big-endian bytes at `at` (no
 * BigInt: the hot apply path writes several per entry).
 */
export function writeU64BE(buf: Uint8Array, at: number, n: number): void {
  if (!(Number.isSafeInteger(n) && n >= 0)) throw new RangeError(`u64 out of range: ${n}`);
  const hi = Math.floor(n / TWO_POW_32);
  const lo = n - hi * TWO_POW_32;
  buf[at] = hi >>> 24;
  buf[at + 1] = (hi >>> 16) & 0xff;
  buf[at + 2] = (hi >>> 8) & 0xff;
  buf[at + 3] = hi & 0xff;
  buf[at + 4] = lo >>> 24;
  buf[at + 5] = (lo >>> 16) & 0xff;
  buf[at + 6] = (lo >>> 8) & 0xff;
  buf[at + 7] = lo & 0xff;
}

/** Reads 8 big-endian bytes at `at` as a number (exact below 2^53). */
export function readU64BE(buf: Uint8Array, at: number): number {
  const hi = ((buf[at] << 24) >>> 0) + (buf[at + 1] << 16) + (buf[at + 2] << 8) + buf[at + 3];
  const lo = ((buf[at + 4] << 24) >>> 0) + (buf[at + 5] << 16) + (buf[at + 6] << 8) + buf[at + 7];
  return hi * TWO_POW_32 + lo;
}
