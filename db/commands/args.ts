/**
 * Argument parsing with Redis's exact rules and error texts.
 * @module
 */
import { str } from "../encoding/bytes.ts";
import { parseI64 } from "../resp/int.ts";
import { err, Errors } from "../resp/reply.ts";
import { CommandError } from "../txn.ts";

/** Lowercase ASCII text of an argument (for option names). */
export function lower(b: Uint8Array): string {
  // Command names and options are short ASCII: built directly, no decoder call.
  if (b.length > 32) return str(b).toLowerCase();
  let s = "";
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c >= 0x80) return str(b).toLowerCase();
    s += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
  }
  return s;
}

/** Throws a CommandError with the given error text. */
export function fail(text: string): never {
  throw new CommandError(err(text));
}

/** An int64 argument, or ERR value is not an integer or out of range. */
export function intArg(b: Uint8Array, text: string = Errors.notInteger): bigint {
  const v = parseI64(b);
  if (v === null) fail(text);
  return v;
}

/** An int64 argument that must fit a JS safe integer (else the same error). */
export function numArg(b: Uint8Array, text: string = Errors.notInteger): number {
  const v = intArg(b, text);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    // Out of our range but within int64: clamp, which matches Redis's
    // behaviour for indexes and counts that far out.
    return v > 0n ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  }
  return Number(v);
}

const FLOAT_RE = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity)$/i;

/**
 * Parses like Redis's getDoubleFromObject (strtod without leading spaces,
 * trailing garbage, NaN or overflow/underflow to ±inf/0); null when invalid.
 */
export function parseFloatStrict(b: Uint8Array): number | null {
  if (b.length === 0 || b.length > 400) return null;
  const s = str(b);
  if (!FLOAT_RE.test(s)) return null;
  const lower_s = s.toLowerCase();
  if (lower_s.includes("inf")) return lower_s.startsWith("-") ? -Infinity : Infinity;
  const x = Number(s);
  if (Number.isNaN(x) || !Number.isFinite(x)) return null;
  if (x === 0 && /[1-9]/.test(s.split(/[eE]/)[0])) return null; // underflow (ERANGE)
  return x;
}

/** A float argument, or ERR value is not a valid float. */
export function floatArg(b: Uint8Array, text: string = Errors.notFloat): number {
  const v = parseFloatStrict(b);
  if (v === null) fail(text);
  return v;
}

/** Pairs the arguments from `from` on: [a, b, c, d] -> [[a, b], [c, d]]. */
export function pairs(args: Uint8Array[], from: number): Array<[Uint8Array, Uint8Array]> {
  const out: Array<[Uint8Array, Uint8Array]> = [];
  for (let i = from; i + 1 < args.length; i += 2) out.push([args[i], args[i + 1]]);
  return out;
}
