/**
 * `check(dir)`: verifies every checksum of every engine file under `dir`
 * (KV segments and hints, Raft log segments) without changing anything, and
 * decodes every record. Backs `eraft ctl check`.
 * @module
 */
import { join } from "node:path";
import { decodeBatch, readHint } from "./kv_format.ts";
import { listSegments, segmentName } from "./files.ts";
import { decodeRecord } from "./raft_log_format.ts";
import { CorruptionError, scanFrames, zeroFrom } from "./record.ts";

/** One problem found. */
export interface CheckProblem {
  file: string;
  offset: number;
  reason: string;
}

/** What `check` found. `ok` is false only for errors; a torn tail is repaired on open. */
export interface CheckReport {
  ok: boolean;
  files: number;
  records: number;
  /** Damage open() would refuse (or, in a hint, ignore and rebuild). */
  errors: CheckProblem[];
  /** Incomplete last records of the newest segment: open() truncates these. */
  torn_tails: CheckProblem[];
}

function checkSegments(
  dir: string,
  ext: string,
  decode: (body: Uint8Array, offset: number) => void,
  report: CheckReport,
): void {
  const ids = listSegments(dir, ext);
  for (const [i, id] of ids.entries()) {
    const file = join(dir, segmentName(id, ext));
    const bytes = Deno.readFileSync(file);
    report.files++;
    try {
      const tail = i === ids.length - 1;
      const scan = scanFrames(bytes, file, tail ? "tail" : "strict", decode);
      report.records += scan.frame_count;
      // Zeros after the records are a live head's preallocation, not damage.
      if (scan.valid_bytes < bytes.length && !zeroFrom(bytes, scan.valid_bytes)) {
        report.torn_tails.push({ file, offset: scan.valid_bytes, reason: "torn tail" });
      }
      if (ext === "kv" && !tail) checkHint(dir, id, bytes.length, report);
    } catch (e) {
      if (!(e instanceof CorruptionError)) throw e;
      report.errors.push({ file: e.file, offset: e.offset, reason: e.reason });
    }
  }
}

function checkHint(dir: string, id: number, segment_size: number, report: CheckReport): void {
  const file = join(dir, segmentName(id, "hint"));
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw e;
  }
  report.files++;
  if (!readHint(bytes, file, segment_size, () => {})) {
    report.errors.push({ file, offset: 0, reason: "hint file damaged or stale (rebuilt on open)" });
  }
}

function walk(dir: string, visit: (d: string) => void): void {
  visit(dir);
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) walk(join(dir, e.name), visit);
  }
}

/** Verifies every engine file under `dir` (recursively). */
export function check(dir: string): CheckReport {
  const report: CheckReport = { ok: true, files: 0, records: 0, errors: [], torn_tails: [] };
  walk(dir, (d) => {
    checkSegments(d, "kv", (body, off) => decodeBatch(body, off, () => {}), report);
    checkSegments(d, "raftlog", (body) => void decodeRecord(body), report);
  });
  report.ok = report.errors.length === 0;
  return report;
}
