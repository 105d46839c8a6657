/**
 * Turning decoded protobufjs messages into plain data for `postMessage`.
 *
 * protobufjs keeps proto3 defaults on the message prototype, and structured
 * clone copies own properties only, so a decoded message would arrive in a
 * worker with its default fields missing. Decoded `bytes` fields are also
 * views into the whole received frame; cloning a view copies its entire
 * backing buffer. `toPlain` fixes both: every field present, every byte array
 * an exact-size copy.
 * @module
 */
import { messageType } from "@eraft/shared/proto";

const TO_OBJECT = { defaults: true, arrays: true, longs: Number, enums: Number } as const;

/** A plain, fully-defaulted, clone-safe copy of a message of type `fullName`. */
export function toPlain<T>(fullName: string, message: object): T {
  const type = messageType(fullName);
  return compactBytes(type.toObject(type.fromObject(message), TO_OBJECT)) as T;
}

/** Copies every Uint8Array (and Buffer) inside `value` into an exact-size Uint8Array. */
export function compactBytes(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(compactBytes);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = compactBytes(v);
    return out;
  }
  return value;
}

/** An exact-size copy of a bytes field (undefined/null read as empty). */
export function copyBytes(bytes: Uint8Array | null | undefined): Uint8Array {
  return bytes ? new Uint8Array(bytes) : new Uint8Array(0);
}
