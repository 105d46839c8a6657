import assert from "node:assert/strict";
import protobuf from "protobufjs";
import { decodeMessage, encodeMessage } from "./load.ts";
import {
  LIBRARY_UINT64,
  type ReaderState,
  readUint64,
  type WriterState,
  writeUint64With,
} from "./uint64.ts";

const SAMPLES = [
  0,
  1,
  127,
  128,
  300,
  16_383,
  16_384,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 32,
  2 ** 35 + 7,
  1_795_740_339_210, // a Unix time in ms
  2 ** 49 + 12345,
  Number.MAX_SAFE_INTEGER,
];

type Write = (this: WriterState, v: unknown) => WriterState;
type Read = (this: ReaderState) => number;

function writeWith(fn: Write, v: unknown): Uint8Array {
  const w = protobuf.Writer.create();
  fn.call(w as unknown as WriterState, v);
  return w.finish();
}

/** The value read and the position after it. */
function readWith(fn: Read, bytes: Uint8Array): [number, number] {
  const r = protobuf.Reader.create(bytes) as unknown as ReaderState;
  const v = fn.call(r);
  return [v, r.pos];
}

Deno.test("uint64 numbers: the same bytes as protobufjs's LongBits writer for every safe integer", () => {
  const write = writeUint64With(LIBRARY_UINT64.write);
  for (const v of SAMPLES) {
    assert.deepEqual(
      writeWith(write, v),
      writeWith(LIBRARY_UINT64.write, v),
      `${v}`,
    );
  }
});

Deno.test("uint64 numbers: reads what protobufjs reads, up to 10-byte varints", () => {
  const extremes = [
    Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), // 2^64 - 1
    Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f), // only bit 63 counts
  ];
  for (
    const bytes of [...SAMPLES.map((v) => writeWith(LIBRARY_UINT64.write, v)), ...extremes]
  ) {
    assert.deepEqual(
      readWith(readUint64, bytes),
      readWith(LIBRARY_UINT64.read, bytes),
    );
  }
});

Deno.test("uint64 numbers: truncated and overlong varints are errors", () => {
  assert.throws(() => readWith(readUint64, Uint8Array.of(0x80, 0x80)), RangeError);
  assert.throws(
    () => readWith(readUint64, new Uint8Array(11).fill(0x80)),
    /invalid varint/,
  );
});

Deno.test("uint64 numbers: values the fast path does not take go to the library", () => {
  let fell_back = 0;
  const write = writeUint64With(function (this: WriterState, v: unknown) {
    fell_back++;
    return LIBRARY_UINT64.write.call(this, v);
  });
  for (const v of [-1, 1.5, 2 ** 60, "12"]) {
    try {
      writeWith(write, v);
    } catch {
      // the library's own error for a string without Long: still its path
    }
  }
  assert.equal(fell_back, 4);
});

Deno.test("uint64 numbers: installed, messages round-trip their uint64 fields", () => {
  const entry = {
    entry_type: 0,
    term: 2 ** 40 + 3,
    index: 1_795_740_339_210,
    data: Uint8Array.of(1),
  };
  const back = decodeMessage<typeof entry>("eraftpb.Entry", encodeMessage("eraftpb.Entry", entry));
  assert.equal(back.term, entry.term);
  assert.equal(back.index, entry.index);
  const r = protobuf.Reader.create(Uint8Array.of(1)) as unknown as { uint64(): number };
  assert.equal(r.uint64, readUint64);
});
