/**
 * Length-prefixed frames over one TCP connection: eraft's transport for its
 * two hot streams, db→store `BatchCommands` and store→store Raft messages.
 * The messages are the contract's protobuf messages, unchanged; only the
 * envelope differs. grpc-js on Deno's node:http2 spends more CPU per message
 * than the store spends serving it (profiles in DESIGN.md §10), so the hot
 * streams skip HTTP/2 while every other RPC stays gRPC.
 *
 * Wire format: the dialer first writes the 8-byte {@link FRAME_PREAMBLE};
 * then both sides write frames `u32 BE length | u8 kind | body`, where
 * `length` counts the kind byte and the body. Everything sent during one task
 * leaves in one write. A frame over `max_frame_bytes`, a wrong preamble or a
 * broken socket closes the connection with a reason; the owner reconnects.
 * @module
 */
import assert from "node:assert/strict";
import { concatBytes } from "./bytes.ts";
import { acceptEach, splitHostPort } from "./net.ts";

/** The first bytes a dialer writes: names the protocol and its version. */
export const FRAME_PREAMBLE: Uint8Array = new TextEncoder().encode("eraftF01");

/** What a frame's body is. */
export const FrameKind = {
  /** `storepb.BatchCommandsRequest`, client → store. */
  BatchRequest: 1,
  /** `storepb.BatchCommandsResponse`, store → client. */
  BatchResponse: 2,
  /** `raft_serverpb.RaftMessageBatch`, store → store (no answer). */
  RaftBatch: 3,
} as const;

/** Largest frame accepted by default (the store's entry limit is 16 MiB). */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
/** Unsent bytes one connection may hold before `send` refuses. */
export const DEFAULT_MAX_QUEUED_BYTES = 256 * 1024 * 1024;

const HEADER_BYTES = 5;
const READ_CHUNK_BYTES = 256 * 1024;

/** Callbacks and limits of one connection. */
export interface FrameConnOptions {
  /** One whole frame. `body` is owned by the callee (never reused). */
  on_frame(kind: number, body: Uint8Array): void;
  /** Called once: `reason` is null when closed by `close()`. */
  on_close(reason: string | null): void;
  max_frame_bytes?: number;
  max_queued_bytes?: number;
}

/** One framed connection, dialed or accepted. */
export class FrameConn {
  readonly #opts: Required<FrameConnOptions>;
  #conn: Deno.Conn | null = null;
  #out: Uint8Array[] = [];
  #out_bytes = 0;
  #writing = false;
  #flush_queued = false;
  #closed = false;
  /** Bytes received but not yet a whole frame. */
  #partial: Uint8Array = new Uint8Array(0);
  /** Whether the bytes after `#partial` in its buffer are ours to fill (spare capacity). */
  #owns_tail = false;

  private constructor(opts: FrameConnOptions) {
    this.#opts = {
      max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
      max_queued_bytes: DEFAULT_MAX_QUEUED_BYTES,
      ...opts,
    };
    assert.ok(this.#opts.max_frame_bytes > HEADER_BYTES);
  }

  /**
   * Dials `addr` (host:port). Frames sent before the connection is up are
   * queued behind the preamble; a failed dial closes with its reason.
   */
  static dial(addr: string, opts: FrameConnOptions): FrameConn {
    const fc = new FrameConn(opts);
    fc.#out.push(FRAME_PREAMBLE);
    fc.#out_bytes = FRAME_PREAMBLE.length;
    const { hostname, port } = splitHostPort(addr);
    Deno.connect({ hostname, port, transport: "tcp" }).then(
      (conn) => {
        if (fc.#closed) {
          conn.close();
          return;
        }
        conn.setNoDelay(true);
        fc.#conn = conn;
        fc.#scheduleFlush();
        void fc.#readLoop(conn, false);
      },
      (err) => fc.#finish(`connect to ${addr}: ${err instanceof Error ? err.message : err}`),
    );
    return fc;
  }

  /** Serves an accepted connection; its first bytes must be the preamble. */
  static accept(conn: Deno.TcpConn, opts: FrameConnOptions): FrameConn {
    const fc = new FrameConn(opts);
    conn.setNoDelay(true);
    fc.#conn = conn;
    void fc.#readLoop(conn, true);
    return fc;
  }

  /** Bytes queued and not yet written. */
  get queued_bytes(): number {
    return this.#out_bytes;
  }

  /**
   * Queues one frame; it leaves with the others of this task. False when the
   * connection is closed or holds `max_queued_bytes` unsent already.
   */
  send(kind: number, body: Uint8Array): boolean {
    if (this.#closed) return false;
    const length = body.length + 1;
    if (length + 4 > this.#opts.max_frame_bytes) {
      throw new RangeError(`frame of ${length} bytes over ${this.#opts.max_frame_bytes}`);
    }
    if (this.#out_bytes + length + 4 > this.#opts.max_queued_bytes) return false;
    const header = new Uint8Array(HEADER_BYTES);
    new DataView(header.buffer).setUint32(0, length);
    header[4] = kind;
    this.#out.push(header, body);
    this.#out_bytes += HEADER_BYTES + body.length;
    this.#scheduleFlush();
    return true;
  }

  /**
   * Starts writing what is queued now instead of at the end of the task (a
   * write starts its syscall at once): for a caller about to block the
   * thread, as a worker does in fsync.
   */
  flushNow(): void {
    if (this.#out.length > 0 && !this.#writing && this.#conn !== null) void this.#flush();
  }

  /** Closes the socket; queued frames are dropped. */
  close(): void {
    this.#finish(null);
  }

  #scheduleFlush(): void {
    if (this.#flush_queued || this.#writing || this.#conn === null) return;
    this.#flush_queued = true;
    queueMicrotask(() => {
      this.#flush_queued = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    const conn = this.#conn;
    if (conn === null || this.#writing) return;
    this.#writing = true;
    try {
      while (this.#out.length > 0 && !this.#closed) {
        const bytes = this.#out.length === 1 ? this.#out[0] : concatBytes(this.#out);
        this.#out = [];
        this.#out_bytes = 0;
        let off = 0;
        while (off < bytes.length) off += await conn.write(bytes.subarray(off));
      }
    } catch (err) {
      this.#finish(`write: ${err instanceof Error ? err.message : err}`);
    } finally {
      this.#writing = false;
    }
  }

  async #readLoop(conn: Deno.Conn, expect_preamble: boolean): Promise<void> {
    const scratch = new Uint8Array(READ_CHUNK_BYTES);
    let need_preamble = expect_preamble;
    try {
      for (;;) {
        const n = await conn.read(scratch);
        if (n === null) return this.#finish("connection closed by peer");
        if (this.#closed) return;
        this.#append(scratch.subarray(0, n));
        if (need_preamble) {
          if (this.#partial.length < FRAME_PREAMBLE.length) continue;
          const head = this.#partial.subarray(0, FRAME_PREAMBLE.length);
          if (!FRAME_PREAMBLE.every((b, i) => head[i] === b)) {
            return this.#finish("protocol error: not an eraft frame connection");
          }
          this.#partial = this.#partial.subarray(FRAME_PREAMBLE.length);
          need_preamble = false;
        }
        const err = this.#deliverFrames();
        if (err !== null) return this.#finish(err);
      }
    } catch (err) {
      this.#finish(`read: ${err instanceof Error ? err.message : err}`);
    }
  }

  /**
   * Adds received bytes to the unparsed ones. Bodies already handed out are
   * never written over: unparsed bytes live after them, and growing copies
   * into a new buffer, sized for the frame being received so a large frame
   * is copied once rather than once per read.
   */
  #append(chunk: Uint8Array): void {
    const p = this.#partial;
    if (p.length === 0) {
      this.#partial = chunk.slice();
      this.#owns_tail = false; // an exact copy: no spare bytes
      return;
    }
    const end = p.byteOffset + p.length;
    if (end + chunk.length <= p.buffer.byteLength && this.#owns_tail) {
      new Uint8Array(p.buffer, end, chunk.length).set(chunk);
      this.#partial = new Uint8Array(p.buffer, p.byteOffset, p.length + chunk.length);
      return;
    }
    const declared = p.length >= 4 ? new DataView(p.buffer, p.byteOffset, 4).getUint32(0) + 4 : 0;
    const need = p.length + chunk.length;
    const grown = new Uint8Array(Math.max(need, Math.min(declared, this.#opts.max_frame_bytes)));
    grown.set(p);
    grown.set(chunk, p.length);
    this.#partial = grown.subarray(0, need);
    this.#owns_tail = true;
  }

  /** Hands every whole frame to `on_frame`; a protocol error's text, else null. */
  #deliverFrames(): string | null {
    let buf = this.#partial;
    while (buf.length >= HEADER_BYTES && !this.#closed) {
      const length = new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0);
      if (length < 1 || length + 4 > this.#opts.max_frame_bytes) {
        return `protocol error: frame of ${length} bytes (limit ${this.#opts.max_frame_bytes})`;
      }
      if (buf.length < length + 4) break;
      const kind = buf[4];
      const body = buf.subarray(HEADER_BYTES, length + 4);
      buf = buf.subarray(length + 4);
      this.#opts.on_frame(kind, body);
    }
    this.#partial = buf;
    return null;
  }

  #finish(reason: string | null): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#out = [];
    this.#out_bytes = 0;
    try {
      this.#conn?.close();
    } catch { /* already closed */ }
    this.#opts.on_close(reason);
  }
}

/** The far end of an accepted connection, as its server sees it. */
export interface FramePeer {
  /** host:port of the dialer. */
  readonly remote: string;
  send(kind: number, body: Uint8Array): boolean;
  close(): void;
}

/** A listener handing each accepted connection to `serve`. */
export interface FrameListener {
  /** host:port actually bound. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Listens on `addr` (port 0: any free port) and asks `serve` for the
 * callbacks of each accepted connection; `close()` stops accepting and
 * closes the open connections.
 */
export function listenFrames(
  addr: string,
  serve: (peer: FramePeer) => FrameConnOptions,
): FrameListener {
  const listener = Deno.listen({ ...splitHostPort(addr), transport: "tcp" });
  const open = new Set<FrameConn>();
  const accepting = acceptEach(listener, (conn) => {
    const remote = conn.remoteAddr as Deno.NetAddr;
    let fc: FrameConn | null = null;
    const peer: FramePeer = {
      remote: `${remote.hostname}:${remote.port}`,
      send: (kind, body) => fc?.send(kind, body) ?? false,
      close: () => fc?.close(),
    };
    const opts = serve(peer);
    const accepted = FrameConn.accept(conn, {
      ...opts,
      on_close: (reason) => {
        open.delete(accepted);
        opts.on_close(reason);
      },
    });
    fc = accepted;
    open.add(accepted);
  });
  const bound = listener.addr as Deno.NetAddr;
  let closed = false;
  return {
    address: `${bound.hostname}:${bound.port}`,
    async close() {
      if (closed) return;
      closed = true;
      listener.close();
      await accepting;
      for (const fc of [...open]) fc.close();
    },
  };
}
