/**
 * uint64 varints as plain numbers, without protobufjs's LongBits objects.
 *
 * Without a Long library protobufjs still reads every uint64 into a fresh
 * `LongBits` and converts it (`toNumber`), and writes one through
 * `LongBits.from`: an object per id, term, index and timestamp of every
 * message. On a store leader under writes that was ~10% of the bytes its
 * worker allocated. These replacements give the same numbers and bytes for
 * every non-negative integer up to 2^53 (all eraft ever puts in a uint64);
 * anything else (negative, fractional, larger) takes the library's path.
 * @module
 */
import protobuf from "protobufjs";
import { putVarint } from "../bytes.ts";

/** The fields of protobufjs's Reader the replacement uses (internal to the library). */
export interface ReaderState {
  buf: Uint8Array;
  pos: number;
  len: number;
}
/** The fields of protobufjs's Writer the replacement uses (internal to the library). */
export interface WriterState {
  buf: Uint8Array;
  pos: number;
  _reserve(n: number): void;
}

/** Longest varint (10 bytes carry 64 bits). */
const MAX_VARINT_BYTES = 10;

/**
 * Reads a varint as an unsigned number, as LongBits.toNumber(true) would: the
 * tenth byte contributes only bit 63, as in protobufjs.
 */
export function readUint64(this: ReaderState): number {
  const buf = this.buf;
  let pos = this.pos;
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (pos >= this.len) throw new RangeError(`index out of range: ${pos} + 1 > ${this.len}`);
    const b = buf[pos++];
    value += (i === MAX_VARINT_BYTES - 1 ? b & 1 : b & 127) * scale;
    if (b < 128) {
      this.pos = pos;
      return value;
    }
    scale *= 128;
  }
  throw new Error("invalid varint encoding");
}

/** Writes a safe non-negative integer as a varint; anything else goes to `fallback`. */
export function writeUint64With(
  fallback: (this: WriterState, value: unknown) => WriterState,
): (this: WriterState, value: unknown) => WriterState {
  return function writeUint64(this: WriterState, value: unknown): WriterState {
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      return fallback.call(this, value);
    }
    this._reserve(MAX_VARINT_BYTES);
    this.pos = putVarint(this.buf, this.pos, value);
    return this;
  };
}

type Proto = { prototype: Record<string, unknown> };

/** The library's own uint64 reader and writer, kept for tests and fallbacks. */
export const LIBRARY_UINT64 = {
  read: (protobuf.Reader as unknown as Proto).prototype.uint64 as (this: ReaderState) => number,
  write: (protobuf.Writer as unknown as Proto).prototype.uint64 as (
    this: WriterState,
    value: unknown,
  ) => WriterState,
};

/**
 * Installs the replacements on protobufjs's Reader and Writer (their Buffer
 * variants inherit them). Call after `protobuf.configure()`, which reinstalls
 * the library's readers.
 */
export function installUint64Numbers(): void {
  const reader = (protobuf.Reader as unknown as Proto).prototype;
  const writer = (protobuf.Writer as unknown as Proto).prototype;
  const read = reader.uint64 as (this: ReaderState) => number;
  const write = writer.uint64 as (this: WriterState, value: unknown) => WriterState;
  if (read === readUint64) return;
  LIBRARY_UINT64.read = read;
  LIBRARY_UINT64.write = write;
  reader.uint64 = readUint64;
  writer.uint64 = writeUint64With(write);
}
