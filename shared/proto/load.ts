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
import { EMPTY_BYTES } from "../bytes.ts";
import { installUint64Numbers } from "./uint64.ts";

// Without a Long implementation protobufjs reads and writes uint64 as numbers.
protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
// Without Buffer it encodes into plain Uint8Arrays: Deno's Node Buffer (pool
// and FastBuffer construction) cost several percent of a store worker's CPU
// under writes, and nothing needs Buffer methods on encoded bytes (the gRPC
// layer copies them into a Buffer of its own, see grpc/service.ts).
protobuf.util.Buffer = null as unknown as typeof protobuf.util.Buffer;
protobuf.configure();
installUint64Numbers();

// Decoded `bytes` fields are views into the decoded buffer (protobufjs 8's
// Reader.raw is a subarray). What is posted to another thread or kept copies
// them itself: store/server/kv_api.ts (ByteArena), store/server/plain.ts.

function buildRoot(): protobuf.Root {
  const root = new protobuf.Root();
  for (const [name, source] of Object.entries(PROTO_FILES)) {
    protobuf.parse(source, root, { keepCase: true, alternateCommentMode: true });
    root.files.push(name);
  }
  root.resolveAll();
  setBytesDefaults(root);
  return root;
}

/**
 * Sets the prototype default of every singular `bytes` field of `ns`'s
 * messages (nested ones too) to the shared empty Uint8Array (its buffer is
 * never transferred; nothing can be written into zero bytes). protobufjs puts a frozen
 * empty JS array there, so a message decoded without the plain-object copy
 * (decodeMessageView) read an unset or empty `bytes` field as `[]`: a value
 * that passes `?? fallback` and `.length` checks, then fails where a real
 * byte view is needed (TextDecoder, DataView, subarray).
 */
function setBytesDefaults(ns: protobuf.NamespaceBase): void {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) {
      for (const field of nested.fieldsArray) {
        const singular = !field.repeated && !field.map;
        if (field.type === "bytes" && singular && Array.isArray(field.defaultValue)) {
          (nested.ctor.prototype as Record<string, unknown>)[field.name] = EMPTY_BYTES;
        }
      }
    }
    if (nested instanceof protobuf.Namespace) setBytesDefaults(nested);
  }
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

/** The fields of protobufjs's Writer a reuse resets (internal to the library). */
interface WriterCursor {
  buf: Uint8Array;
  pos: number;
  states: number[] | null;
}

/**
 * One writer per thread, reused by every encode: a fresh writer starts at 128
 * bytes and doubles, allocating and copying at each step (four times for a
 * 2 KiB Raft entry), and every typed-array allocation costs ~1 µs here. A
 * writer grown past this many bytes (a snapshot chunk) is dropped after use.
 */
const KEEP_WRITER_BYTES = 1024 * 1024;
let idle_writer: protobuf.Writer | null = null;

/** Encodes `message` into this thread's writer and returns what `take` makes of it. */
function encodeWith<T extends object>(
  fullName: string,
  message: T,
  take: (w: protobuf.Writer, cursor: WriterCursor) => Uint8Array,
): Uint8Array {
  // Taken while in use: an encode inside an encode would get a writer of its own.
  const w = idle_writer ?? protobuf.Writer.create();
  idle_writer = null;
  const cursor = w as unknown as WriterCursor;
  cursor.pos = 0;
  cursor.states = null;
  try {
    messageType(fullName).encode(message, w);
    return take(w, cursor);
  } finally {
    if (cursor.buf.length <= KEEP_WRITER_BYTES) idle_writer = w;
  }
}

/** Encodes a plain object as the named message. Unknown fields are ignored. */
export function encodeMessage<T extends object>(fullName: string, message: T): Uint8Array {
  return encodeWith(fullName, message, (w) => w.finish());
}

/**
 * Like {@link encodeMessage}, but the bytes own their whole buffer: for what
 * is posted to another thread (structured clone copies a view's whole
 * buffer) or kept long. encodeMessage's small results are views into a
 * shared 8 KiB slab (protobufjs's pool) that such a caller would copy again.
 */
export function encodeMessageOwned<T extends object>(fullName: string, message: T): Uint8Array {
  return encodeWith(fullName, message, (_w, cursor) => cursor.buf.slice(0, cursor.pos));
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
