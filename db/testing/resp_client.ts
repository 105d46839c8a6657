/**
 * A minimal raw RESP client for tests: sends commands (or raw bytes) and reads
 * back complete replies as raw bytes, so replies can be compared byte for byte.
 * @module
 */
import { concat, utf8 } from "../encoding/bytes.ts";

/** A decoded reply frame (enough structure to normalise unordered replies). */
export interface Frame {
  t: string;
  line: string;
  bulk: Uint8Array | null;
  items: Frame[] | null;
}

function lineAt(b: Uint8Array, off: number): { line: string; next: number } | null {
  for (let i = off; i + 1 < b.length; i++) {
    if (b[i] === 0x0d && b[i + 1] === 0x0a) {
      return { line: new TextDecoder().decode(b.subarray(off + 1, i)), next: i + 2 };
    }
  }
  return null;
}

/** Decodes one frame at `off`; null when incomplete. */
export function decodeFrame(b: Uint8Array, off: number): { f: Frame; end: number } | null {
  if (off >= b.length) return null;
  const t = String.fromCharCode(b[off]);
  const l = lineAt(b, off);
  if (!l) return null;
  const f: Frame = { t, line: l.line, bulk: null, items: null };
  if ("$=!".includes(t)) {
    const n = Number(l.line);
    if (n < 0) return { f, end: l.next };
    if (b.length < l.next + n + 2) return null;
    f.bulk = b.slice(l.next, l.next + n);
    return { f, end: l.next + n + 2 };
  }
  if ("*~>%|".includes(t)) {
    let n = Number(l.line);
    if (n < 0) return { f, end: l.next };
    if (t === "%" || t === "|") n *= 2;
    f.items = [];
    let pos = l.next;
    for (let i = 0; i < n; i++) {
      const sub = decodeFrame(b, pos);
      if (!sub) return null;
      f.items.push(sub.f);
      pos = sub.end;
    }
    return { f, end: pos };
  }
  return { f, end: l.next };
}

/** Encodes a frame back to bytes. */
export function encodeFrame(f: Frame): Uint8Array {
  const head = utf8(`${f.t}${f.line}\r\n`);
  if (f.bulk) return concat(head, f.bulk, utf8("\r\n"));
  if (f.items) return concat(head, ...f.items.map(encodeFrame));
  return head;
}

/** Encodes a command as a RESP multibulk. */
export function encodeCommand(args: Array<string | Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [utf8(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === "string" ? utf8(a) : a;
    parts.push(utf8(`$${b.length}\r\n`), b, utf8("\r\n"));
  }
  return concat(...parts);
}

/** One TCP connection speaking RESP. */
export class RespClient {
  private buf: Uint8Array = new Uint8Array(0);
  private constructor(private readonly conn: Deno.TcpConn) {}

  /** Connects to 127.0.0.1:port. */
  static async connect(port: number): Promise<RespClient> {
    return new RespClient(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  /** Writes raw bytes. */
  async send(b: Uint8Array): Promise<void> {
    let off = 0;
    while (off < b.length) off += await this.conn.write(b.subarray(off));
  }

  /** Reads one complete reply; null when the server closed the connection first. */
  async readFrame(): Promise<{ raw: Uint8Array; f: Frame } | null> {
    const chunk = new Uint8Array(64 * 1024);
    for (;;) {
      const d = decodeFrame(this.buf, 0);
      if (d) {
        const raw = this.buf.slice(0, d.end);
        this.buf = this.buf.slice(d.end);
        return { raw, f: d.f };
      }
      const n = await this.conn.read(chunk);
      if (n === null) return null;
      this.buf = concat(this.buf, chunk.subarray(0, n));
    }
  }

  /** Sends a command and returns its raw reply. */
  async call(...args: Array<string | Uint8Array>): Promise<Uint8Array> {
    await this.send(encodeCommand(args));
    const r = await this.readFrame();
    if (!r) throw new Error("connection closed before the reply");
    return r.raw;
  }

  /** Reads until the server closes; returns what arrived. */
  async readToEnd(): Promise<Uint8Array> {
    const chunk = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await this.conn.read(chunk).catch(() => null);
      if (n === null) {
        const out = this.buf;
        this.buf = new Uint8Array(0);
        return out;
      }
      this.buf = concat(this.buf, chunk.subarray(0, n));
    }
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}
