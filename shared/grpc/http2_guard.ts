/**
 * A re-entrancy guard for Deno's `node:http2` session handle: the root-cause
 * workaround for the nghttp2 aborts of denoland/deno#36788 (README, "Deno
 * platform notes").
 *
 * The bug, as traced in Deno 2.9.6: the native session handle is meant to
 * defer sending and destroying while nghttp2 is parsing input (an `is_sending`
 * flag set around `nghttp2_session_mem_recv`), but the flag does not hold. So
 * when a GOAWAY arrives on a connection with no open streams, the JavaScript
 * GOAWAY handler closes the session, the close writes its own GOAWAY and finds
 * the session finished, and the handle's `destroy()` runs
 * `nghttp2_session_del` — all inside `receive()`, with nghttp2 still on the
 * stack. nghttp2 then walks its freed session: the `find_stream_on_goaway_func`
 * assertion (`stream->closed_next == NULL`), SIGSEGV, or `free(): invalid
 * pointer`, depending on what reused the memory. Every connection close runs
 * this path on the receiving side; the call count only changes the odds of
 * dying (a client closing after 200-300 calls killed the server in 9 of 10
 * runs).
 *
 * The guard does in JavaScript what the native flag should: it counts how
 * deep each handle is in `receive()`/`getOutgoingChunk()`, answers a nested
 * `getOutgoingChunk()` with no bytes (the frames stay queued in nghttp2; the
 * socket data handler flushes right after `receive()` returns), and defers a
 * nested `destroy()` until the outermost call returns. It patches the handle
 * class, which Deno does not export, by opening one throw-away client session
 * on an in-memory stream to reach it. If Deno's internals change shape, it
 * patches nothing and says so; remove it once Deno fixes the bug.
 * @module
 */
import * as http2 from "node:http2";
import { Duplex } from "node:stream";

/** The handle methods the guard wraps (Deno's internal Http2Session handle). */
interface SessionHandle {
  receive(data: Uint8Array): unknown;
  getOutgoingChunk(): Uint8Array | undefined;
  destroy(...args: unknown[]): unknown;
  sendPending?: () => void;
}

/** What the guard observed since start (tests read it). */
export const HTTP2_GUARD_STATS = {
  /** `destroy()` calls that arrived inside nghttp2 and were deferred. */
  destroys_deferred: 0,
  /** `getOutgoingChunk()` calls that arrived inside nghttp2 and got no bytes. */
  nested_sends_refused: 0,
};

const PATCHED = Symbol.for("eraft.http2_guard");
const NO_BYTES = new Uint8Array(0);
let installed: boolean | undefined;

/**
 * Installs the guard on this isolate's http2 session handles; idempotent.
 * Returns false (and patches nothing) when the internals are not as expected.
 */
export function installHttp2Guard(): boolean {
  if (installed !== undefined) return installed;
  try {
    const proto = sessionHandlePrototype();
    installed = proto !== undefined && patch(proto);
  } catch {
    installed = false; // a Deno whose http2 no longer works this way: run unguarded
  }
  if (!installed) {
    console.error(
      "http2 guard: Deno's http2 session internals changed; the guard is off " +
        "(denoland/deno#36788 may abort this process on connection close)",
    );
  }
  return installed;
}

/** The prototype of Deno's native session handle, via a throw-away session. */
function sessionHandlePrototype(): Record<string | symbol, unknown> | undefined {
  const socket = new Duplex({
    read() {},
    write(_chunk, _encoding, done) {
      done();
    },
  });
  const session = http2.connect("http://localhost", { createConnection: () => socket });
  session.on("error", () => {});
  try {
    const fields = session as unknown as Record<symbol, unknown>;
    const handle_key = Object.getOwnPropertySymbols(session)
      .find((key) => key.description === "kHandle");
    const handle = handle_key === undefined ? undefined : fields[handle_key];
    if (typeof handle !== "object" || handle === null) return undefined;
    return Object.getPrototypeOf(handle) as Record<string | symbol, unknown>;
  } finally {
    session.destroy();
    socket.destroy();
  }
}

function patch(proto: Record<string | symbol, unknown>): boolean {
  if (proto[PATCHED] === true) return true;
  if (
    typeof proto.receive !== "function" || typeof proto.getOutgoingChunk !== "function" ||
    typeof proto.destroy !== "function"
  ) return false;
  const receive = proto.receive as SessionHandle["receive"];
  const get_outgoing_chunk = proto.getOutgoingChunk as SessionHandle["getOutgoingChunk"];
  const destroy = proto.destroy as SessionHandle["destroy"];

  const depth = new WeakMap<SessionHandle, number>();
  const deferred_destroy = new WeakMap<SessionHandle, unknown[]>();
  // A deferred destroy can meet a second one from the flush before it; the
  // native destroy frees the nghttp2 session, so it runs at most once.
  const destroyed = new WeakSet<SessionHandle>();
  function destroyOnce(handle: SessionHandle, args: unknown[]): unknown {
    if (destroyed.has(handle)) return undefined;
    destroyed.add(handle);
    return destroy.apply(handle, args);
  }
  /** Runs `fn` one level deeper in nghttp2; at the outermost exit, a deferred destroy runs. */
  function nested<T>(handle: SessionHandle, fn: () => T): T {
    depth.set(handle, (depth.get(handle) ?? 0) + 1);
    try {
      return fn();
    } finally {
      const left = (depth.get(handle) ?? 1) - 1;
      depth.set(handle, left);
      if (left === 0) runDeferredDestroy(handle);
    }
  }
  function runDeferredDestroy(handle: SessionHandle): void {
    const args = deferred_destroy.get(handle);
    if (args === undefined) return;
    deferred_destroy.delete(handle);
    try {
      handle.sendPending?.(); // the GOAWAY the close queued goes out first
    } catch {
      // the socket is already gone; nothing left to flush
    }
    destroyOnce(handle, args);
  }

  proto.receive = function (this: SessionHandle, data: Uint8Array) {
    return nested(this, () => receive.call(this, data));
  };
  proto.getOutgoingChunk = function (this: SessionHandle) {
    if ((depth.get(this) ?? 0) > 0) {
      HTTP2_GUARD_STATS.nested_sends_refused++;
      return NO_BYTES;
    }
    return nested(this, () => get_outgoing_chunk.call(this));
  };
  proto.destroy = function (this: SessionHandle, ...args: unknown[]) {
    if ((depth.get(this) ?? 0) === 0) return destroyOnce(this, args);
    HTTP2_GUARD_STATS.destroys_deferred++;
    if (!deferred_destroy.has(this)) deferred_destroy.set(this, args);
    return undefined;
  };
  proto[PATCHED] = true;
  return true;
}
