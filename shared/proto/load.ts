/**
 * Builds protobufjs types from the contract's `.proto` text.
 *
 * Field names keep the `.proto` spelling (`keepCase`), so `region_error` is
 * `region_error` everywhere. 64-bit integers decode as JS numbers rather than
 * Long objects: every id, term and index eraft allocates stays far below 2^53,
 * and plain numbers are what raft/ computes with.
 * @module
 */
import protobuf from "protobufjs";
import { PROTO_FILES } from "./files.ts";

// Without a Long implementation protobufjs reads and writes uint64 as numbers.
protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
// Without Buffer it encodes into plain Uint8Arrays: Deno's Node Buffer (pool
// and FastBuffer construction) cost several percent of a store worker's CPU
// under writes, and nothing needs Buffer methods on encoded bytes (the gRPC
// layer copies them into a Buffer of its own, see grpc/service.ts).
protobuf.util.Buffer = null as unknown as typeof protobuf.util.Buffer;
protobuf.configure();

/**
 * Decoded `bytes` fields become exact-size copies instead of views into the
 * received frame. A view drags its whole backing buffer along: structured
 * clone (postMessage to a worker) copies all of it for every field, and a
 * kept key pins the frame in memory.
 */
function copySlice(this: Uint8Array, start: number, end: number): Uint8Array {
  return new Uint8Array(this.subarray(start, end));
}
type SliceOwner = { prototype: { _slice: unknown } };
(protobuf.Reader as unknown as SliceOwner).prototype._slice = copySlice;
(protobuf.BufferReader as unknown as SliceOwner).prototype._slice = copySlice;

function buildRoot(): protobuf.Root {
  const root = new protobuf.Root();
  for (const [name, source] of Object.entries(PROTO_FILES)) {
    protobuf.parse(source, root, { keepCase: true, alternateCommentMode: true });
    root.files.push(name);
  }
  root.resolveAll();
  return root;
}

/** The one root holding every package of the contract. */
export const protoRoot: protobuf.Root = buildRoot();

const typeCache = new Map<string, protobuf.Type>();

/** The message type with a fully qualified name such as `kvrpcpb.RawGetRequest`. */
export function messageType(fullName: string): protobuf.Type {
  let type = typeCache.get(fullName);
  if (type === undefined) {
    type = protoRoot.lookupType(fullName);
    typeCache.set(fullName, type);
  }
  return type;
}

/** The service with a fully qualified name such as `storepb.Store`. */
export function serviceType(fullName: string): protobuf.Service {
  return protoRoot.lookupService(fullName);
}

/** Encodes a plain object as the named message. Unknown fields are ignored. */
export function encodeMessage<T extends object>(fullName: string, message: T): Uint8Array {
  return messageType(fullName).encode(message).finish();
}

/** toObject options giving plain objects with every field present. */
const PLAIN: protobuf.IConversionOptions = { defaults: true, arrays: true };

/**
 * Decodes bytes as the named message into a plain object with every field
 * present (proto3 defaults filled in). protobufjs's own decode keeps defaults
 * on the prototype, where object spread and structured clone (postMessage to
 * a worker) silently drop them — so nothing in eraft uses its raw output.
 * Throws a descriptive error on malformed input.
 */
export function decodeMessage<T>(fullName: string, bytes: Uint8Array): T {
  const type = messageType(fullName);
  return type.toObject(type.decode(bytes), PLAIN) as T;
}

/**
 * Decodes bytes as the named message without the plain-object copy: unset
 * fields read their defaults through the prototype. For read-only use on a
 * hot path only — spreading it or posting it to a worker loses those
 * defaults (use {@link decodeMessage} there).
 */
export function decodeMessageView<T>(fullName: string, bytes: Uint8Array): T {
  return messageType(fullName).decode(bytes) as unknown as T;
}

/** A decoded message (or any value of its shape) as a plain object with every field present. */
export function toPlainMessage<T>(fullName: string, message: object): T {
  const type = messageType(fullName);
  return type.toObject(message as protobuf.Message, PLAIN) as T;
}
