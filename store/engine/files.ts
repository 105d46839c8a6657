/**
 * Segment files: numbered, append-only, synchronous I/O (faster inside workers),
 * with directory fsync after every create, rename and delete so the directory
 * entry is as durable as the data.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";

/** fsync a directory so creates/renames/deletes in it survive a crash. */
export function fsyncDir(dir: string): void {
  const f = Deno.openSync(dir, { read: true });
  try {
    f.syncSync();
  } finally {
    f.close();
  }
}

/** File name of segment `id` with extension `ext` (zero-padded so names sort). */
export function segmentName(id: number, ext: string): string {
  return `${String(id).padStart(10, "0")}.${ext}`;
}

/** Ids of the `*.ext` segment files in `dir`, ascending. */
export function listSegments(dir: string, ext: string): number[] {
  const ids: number[] = [];
  const re = new RegExp(`^(\\d{10})\\.${ext}$`);
  for (const e of Deno.readDirSync(dir)) {
    const m = e.isFile ? re.exec(e.name) : null;
    if (m) ids.push(Number(m[1]));
  }
  return ids.sort((a, b) => a - b);
}

/** Writes `data` to `path` durably: temp file, fsync, rename, dir fsync. */
export function writeFileAtomic(dir: string, name: string, data: Uint8Array): void {
  const tmp = join(dir, name + ".tmp");
  const f = Deno.openSync(tmp, { write: true, create: true, truncate: true });
  try {
    writeAll(f, data);
    f.syncDataSync();
  } finally {
    f.close();
  }
  Deno.renameSync(tmp, join(dir, name));
  fsyncDir(dir);
}

function writeAll(f: Deno.FsFile, data: Uint8Array): void {
  let done = 0;
  for (let tries = 0; done < data.length; tries++) {
    if (tries >= 1_000_000) assert.fail("writeSync made no progress");
    done += f.writeSync(data.subarray(done));
  }
}

/** Deletes temp files left by an interrupted writeFileAtomic. */
export function removeTempFiles(dir: string): void {
  let removed = false;
  for (const e of Deno.readDirSync(dir)) {
    if (e.isFile && e.name.endsWith(".tmp")) {
      Deno.removeSync(join(dir, e.name));
      removed = true;
    }
  }
  if (removed) fsyncDir(dir);
}

/**
 * Engine I/O counters of this thread (each worker has its own): fsyncs so far
 * and the durations (seconds) of recent ones, which the metrics reader drains.
 */
export const IO_STATS = { fsyncs: 0, fsync_seconds: [] as number[], compactions: 0 };

/** One append-only segment file, open for append and positional reads. */
export class SegmentFile {
  #file: Deno.FsFile | null;
  /** Bytes in the file (appends go here). */
  size: number;
  /** Appended since the last sync. */
  dirty = false;

  private constructor(
    readonly dir: string,
    readonly id: number,
    readonly path: string,
    file: Deno.FsFile,
    size: number,
  ) {
    this.#file = file;
    this.size = size;
  }

  /** Creates a new, empty segment (fails if it exists) and fsyncs the directory. */
  static create(dir: string, id: number, ext: string): SegmentFile {
    const path = join(dir, segmentName(id, ext));
    const f = Deno.openSync(path, { read: true, append: true, createNew: true });
    fsyncDir(dir);
    return new SegmentFile(dir, id, path, f, 0);
  }

  /** Opens an existing segment. */
  static open(dir: string, id: number, ext: string): SegmentFile {
    const path = join(dir, segmentName(id, ext));
    const f = Deno.openSync(path, { read: true, append: true });
    return new SegmentFile(dir, id, path, f, f.statSync().size);
  }

  #f(): Deno.FsFile {
    if (!this.#file) assert.fail(`segment ${this.path} is closed`);
    return this.#file;
  }

  /**
   * Appends `data` and returns the offset it starts at. A failed or short write
   * is cut back off, so a later append never lands after garbage.
   */
  append(data: Uint8Array): number {
    const f = this.#f();
    const at = this.size;
    try {
      writeAll(f, data);
    } catch (e) {
      f.truncateSync(at);
      throw e;
    }
    this.size += data.length;
    this.dirty = true;
    return at;
  }

  /** Reads into `out` from `offset`; returns the bytes read (short at end of file). */
  readAt(offset: number, out: Uint8Array): number {
    const f = this.#f();
    if (offset < 0) assert.fail(`read at offset ${offset}`);
    f.seekSync(offset, Deno.SeekMode.Start);
    let done = 0;
    for (let tries = 0; done < out.length; tries++) {
      if (tries >= 1_000_000) assert.fail("readSync made no progress");
      const n = f.readSync(out.subarray(done));
      if (n === null || n === 0) break;
      done += n;
    }
    return done;
  }

  /** The whole file. */
  readAll(): Uint8Array {
    const out = new Uint8Array(this.size);
    const n = this.readAt(0, out);
    if (n !== this.size) assert.fail(`short read of ${this.path}`);
    return out;
  }

  /** fdatasync if anything was appended since the last sync. */
  sync(): void {
    if (!this.dirty) return;
    const start = performance.now();
    this.#f().syncDataSync();
    this.dirty = false;
    IO_STATS.fsyncs++;
    const s = (performance.now() - start) / 1000;
    if (IO_STATS.fsync_seconds.length < 4096) IO_STATS.fsync_seconds.push(s);
  }

  /** Cuts the file to `size_bytes` (a torn tail) and makes that durable. */
  truncate(size_bytes: number): void {
    assert(size_bytes <= this.size);
    const f = this.#f();
    f.truncateSync(size_bytes);
    f.syncSync();
    this.size = size_bytes;
  }

  close(): void {
    this.#file?.close();
    this.#file = null;
  }

  /** Closes and deletes the file; the caller fsyncs the directory. */
  remove(): void {
    this.close();
    Deno.removeSync(this.path);
  }
}
