import assert from "node:assert/strict";
import { join } from "node:path";
import { SegmentFile, segmentName } from "./files.ts";
import { withTempDir } from "./test_util.ts";

const bytes = (from: number, n: number) =>
  Uint8Array.from({ length: n }, (_, i) => (from + i) % 251);

Deno.test("segment write-behind: appends are held until the buffer fills, and read back at once", () => {
  withTempDir((dir) => {
    const seg = SegmentFile.create(dir, 1, "t", { write_behind_bytes: 100 });
    const path = join(dir, segmentName(1, "t"));
    try {
      assert.equal(seg.append(bytes(0, 60)), 0);
      assert.equal(seg.append(bytes(60, 30)), 60);
      assert.equal(Deno.statSync(path).size, 0, "90 bytes held, none written");
      const out = new Uint8Array(90);
      assert.equal(seg.readAt(0, out), 90);
      assert.deepEqual(out, bytes(0, 90));
      assert.equal(seg.append(bytes(90, 20)), 90); // past 100: the first 90 go out first
      assert.equal(Deno.statSync(path).size, 90);
      // A read across the file's end and into the held bytes, and one past everything.
      const across = new Uint8Array(40);
      assert.equal(seg.readAt(70, across), 40);
      assert.deepEqual(across, bytes(70, 40));
      assert.equal(seg.readAt(105, new Uint8Array(50)), 5, "short at the end of the records");
      assert.deepEqual(seg.readAll(), bytes(0, 110));
    } finally {
      seg.close();
    }
    assert.deepEqual(Deno.readFileSync(path), bytes(0, 110), "close writes what was held");
  });
});

Deno.test("segment write-behind: sync writes the held appends before the fdatasync", () => {
  withTempDir((dir) => {
    const seg = SegmentFile.create(dir, 1, "t", { write_behind_bytes: 1000 });
    try {
      seg.append(bytes(0, 10));
      seg.append(bytes(10, 500));
      assert.equal(Deno.statSync(seg.path).size, 0);
      seg.sync();
      assert.deepEqual(Deno.readFileSync(seg.path), bytes(0, 510));
      assert.equal(seg.dirty, false);
      seg.append(bytes(510, 2500)); // larger than the buffer: out at once
      assert.deepEqual(Deno.readFileSync(seg.path), bytes(0, 3010));
    } finally {
      seg.close();
    }
  });
});

Deno.test("segment without write-behind writes every append at once", () => {
  withTempDir((dir) => {
    const seg = SegmentFile.create(dir, 1, "t");
    try {
      seg.append(bytes(0, 7));
      assert.equal(Deno.statSync(seg.path).size, 7);
    } finally {
      seg.close();
    }
  });
});
