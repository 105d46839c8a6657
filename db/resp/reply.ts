/**
 * Reply values produced by commands, independent of the protocol version; the
 * writer turns them into RESP2 or RESP3 bytes.
 * @module
 */
import { utf8 } from "../encoding/bytes.ts";

/** A reply tree. `null_bulk`/`null_array` both become `_` in RESP3. */
export type Reply =
  | { k: "simple"; s: string }
  | { k: "error"; s: string }
  | { k: "int"; n: number | bigint }
  | { k: "bulk"; b: Uint8Array }
  | { k: "null_bulk" }
  | { k: "null_array" }
  | { k: "array"; a: Reply[] }
  | { k: "map"; m: Array<[Reply, Reply]> }
  | { k: "set"; a: Reply[] }
  | { k: "double"; d: number }
  | { k: "bool"; v: boolean }
  | { k: "verbatim"; fmt: string; s: string }
  /** Pre-encoded protocol bytes, passed through untouched. */
  | { k: "raw"; b: Uint8Array };

/** +OK */
export const OK: Reply = { k: "simple", s: "OK" };
/** Null bulk string ($-1 / _). */
export const NULL: Reply = { k: "null_bulk" };
/** Null array (*-1 / _). */
export const NULL_ARRAY: Reply = { k: "null_array" };

/** A simple string. */
export function simple(s: string): Reply {
  return { k: "simple", s };
}
/** An error; `s` includes the code, e.g. "ERR syntax error". */
export function err(s: string): Reply {
  return { k: "error", s };
}
/** An integer. */
export function int(n: number | bigint): Reply {
  return { k: "int", n };
}
/** A bulk string from bytes or a JS string (UTF-8). */
export function bulk(b: Uint8Array | string): Reply {
  return { k: "bulk", b: typeof b === "string" ? utf8(b) : b };
}
/** A bulk string or null. */
export function bulkOrNull(b: Uint8Array | null | undefined): Reply {
  return b ? { k: "bulk", b } : NULL;
}
/** An array. */
export function array(a: Reply[]): Reply {
  return { k: "array", a };
}
/** An array of bulk strings. */
export function bulkArray(a: Array<Uint8Array | string>): Reply {
  return { k: "array", a: a.map(bulk) };
}
/** A map (flattened to an array in RESP2). */
export function map(m: Array<[Reply, Reply]>): Reply {
  return { k: "map", m };
}
/** A set (an array in RESP2). */
export function set(a: Reply[]): Reply {
  return { k: "set", a };
}
/** A double (a bulk string in RESP2). */
export function double(d: number): Reply {
  return { k: "double", d };
}
/** A verbatim string (a bulk string in RESP2). */
export function verbatim(s: string, fmt = "txt"): Reply {
  return { k: "verbatim", fmt, s };
}

/** Common Redis error texts, kept in one place so they stay exact. */
export const Errors = {
  syntax: "ERR syntax error",
  notInteger: "ERR value is not an integer or out of range",
  notFloat: "ERR value is not a valid float",
  wrongType: "WRONGTYPE Operation against a key holding the wrong kind of value",
  noAuth: "NOAUTH Authentication required.",
  overflow: "ERR increment or decrement would overflow",
  noSuchKey: "ERR no such key",
  indexRange: "ERR index out of range",
  mustBePositive: "ERR value is out of range, must be positive",
  crossRegion:
    "ERR CROSSREGION keys in request don't hash to the same region (cross-region transactions are not supported yet)",
} as const;

/** Error reply for a wrong argument count. */
export function arityError(name: string): Reply {
  return err(`ERR wrong number of arguments for '${name}' command`);
}
