/**
 * The frame every engine file is made of:
 *
 *   len u32 LE | crc32c u32 LE | body (len bytes)
 *
 * `crc32c` covers the 4 length bytes and the body, so a flipped length is caught
 * too. Parsing distinguishes a torn tail (the file ends inside, or with garbage
 * after, the last good frame: truncated on open) from corruption in the middle
 * (a bad frame followed by a good one: a loud CorruptionError naming the file
 * and offset, never silent loss).
 * @module
 */
import assert from "node:assert/strict";
import { crc32c } from "@node-rs/crc32";
import type { ByteWriter } from "./bytes.ts";

/** Bytes of the frame header (len + crc). */
export const FRAME_HEADER_BYTES = 8;
/** Largest body a frame may carry; larger lengths are treated as corrupt. */
export const FRAME_BODY_MAX_BYTES = 256 * 1024 * 1024;

/** A file is damaged in a way open() must not repair silently. */
export class CorruptionError extends Error {
  constructor(readonly file: string, readonly offset: number, readonly reason: string) {
    super(`corrupt engine file ${file} at offset ${offset}: ${reason}`);
    this.name = "CorruptionError";
  }
}

function frameCrc(len_bytes: Uint8Array, body: Uint8Array): number {
  return crc32c(body, crc32c(len_bytes));
}

/**
 * Starts a frame in `w`; write the body, then call the returned function to
 * patch the header. Returns the frame's start offset via `start`.
 */
export function beginFrame(w: ByteWriter): { start: number; end: () => void } {
  const start = w.length;
  w.u32(0);
  w.u32(0);
  return {
    start,
    end: () => {
      const body_len = w.length - start - FRAME_HEADER_BYTES;
      if (!(body_len > 0 && body_len <= FRAME_BODY_MAX_BYTES)) {
        assert.fail(`frame body ${body_len} bytes`);
      }
      w.patchU32(start, body_len);
      const frame = w.view(start, w.length);
      w.patchU32(start + 4, frameCrc(frame.subarray(0, 4), frame.subarray(FRAME_HEADER_BYTES)));
    },
  };
}

/** Body length of a valid frame starting at `p`, or -1 when none starts there. */
export function validFrameAt(bytes: Uint8Array, p: number): number {
  if (p + FRAME_HEADER_BYTES > bytes.length) return -1;
  const view = new DataView(bytes.buffer, bytes.byteOffset + p, FRAME_HEADER_BYTES);
  const len = view.getUint32(0, true);
  if (len === 0 || len > FRAME_BODY_MAX_BYTES) return -1;
  if (p + FRAME_HEADER_BYTES + len > bytes.length) return -1;
  const body = bytes.subarray(p + FRAME_HEADER_BYTES, p + FRAME_HEADER_BYTES + len);
  return frameCrc(bytes.subarray(p, p + 4), body) === view.getUint32(4, true) ? len : -1;
}

/** First offset >= from where a valid frame starts, or -1. Only used on damage. */
export function findValidFrame(bytes: Uint8Array, from: number): number {
  for (let p = from; p + FRAME_HEADER_BYTES <= bytes.length; p++) {
    // A frame's length is never 0: zeros (a preallocated tail) are skipped unparsed.
    if ((bytes[p] | bytes[p + 1] | bytes[p + 2] | bytes[p + 3]) === 0) continue;
    if (validFrameAt(bytes, p) > 0) return p;
  }
  return -1;
}

/** True when `bytes` from `from` on are all zero (preallocated, never written). */
export function zeroFrom(bytes: Uint8Array, from: number): boolean {
  for (let p = from; p < bytes.length; p++) if (bytes[p] !== 0) return false;
  return true;
}

/** How a scan ended. */
export interface FrameScan {
  /** Bytes of whole valid frames from the start: where a torn tail is cut. */
  valid_bytes: number;
  /** Frames read. */
  frame_count: number;
}

/**
 * Calls `on_frame(body, frame_offset)` for each valid frame in order.
 * `mode: "tail"` (the newest file) accepts a damaged tail and reports where the
 * good prefix ends; `"strict"` (sealed files) accepts none. A damaged frame
 * followed by a valid one is always a CorruptionError. Errors thrown by
 * `on_frame` (a checksummed but undecodable body) become CorruptionErrors.
 */
export function scanFrames(
  bytes: Uint8Array,
  file: string,
  mode: "tail" | "strict",
  on_frame: (body: Uint8Array, frame_offset: number) => void,
): FrameScan {
  let p = 0;
  let frame_count = 0;
  while (p < bytes.length) {
    const len = validFrameAt(bytes, p);
    if (len < 0) {
      const next = findValidFrame(bytes, p + 1);
      if (next >= 0) {
        throw new CorruptionError(file, p, `bad record followed by a valid record at ${next}`);
      }
      if (mode === "strict") throw new CorruptionError(file, p, "bad record in a sealed file");
      return { valid_bytes: p, frame_count };
    }
    const body = bytes.subarray(p + FRAME_HEADER_BYTES, p + FRAME_HEADER_BYTES + len);
    try {
      on_frame(body, p);
    } catch (e) {
      if (e instanceof CorruptionError) throw e;
      throw new CorruptionError(file, p, `undecodable record: ${(e as Error).message}`);
    }
    frame_count++;
    p += FRAME_HEADER_BYTES + len;
  }
  return { valid_bytes: p, frame_count };
}
