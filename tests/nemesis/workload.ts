/**
 * The nemesis workload: concurrent Redis clients (raw RESP over TCP, one
 * operation in flight each, a per-operation timeout) doing SET/GET/INCR/DEL on
 * a few register keys, RPUSH/LRANGE on a few lists and SETs of write-once
 * keys, recording every operation as invoked and then ok, unknown (timeout,
 * lost connection, an error after which a write may still apply) or failed
 * (a read that got an error: it had no effect).
 * @module
 */
import { Prng } from "@eraft/raft";
import { type Frame, RespClient } from "../../db/testing/resp_client.ts";
import { encodeCommand } from "../../db/testing/resp_client.ts";
import { HistoryRecorder } from "../linearizability/history.ts";
import type {
  ListInput,
  ListOutput,
  RegisterInput,
  RegisterOutput,
} from "../linearizability/models.ts";

/** A reply as the workload sees it. */
export type Reply =
  | { kind: "ok"; value: string | number | null | string[] }
  | { kind: "error"; message: string }
  | { kind: "unknown"; why: string };

function value(f: Frame): string | number | null | string[] {
  switch (f.t) {
    case "+":
      return f.line;
    case ":":
      return Number(f.line);
    case "$":
      return f.bulk === null ? null : new TextDecoder().decode(f.bulk);
    case "_":
      return null;
    case "*":
      return f.items === null ? null : f.items.map((i) => String(value(i)));
    default:
      return f.line;
  }
}

/** One connection to one db with a per-call timeout; reconnects after any trouble. */
export class TimedClient {
  #conn: RespClient | null = null;

  constructor(readonly port: () => number, readonly timeout_ms: number) {}

  /** Sends one command; never throws. */
  async call(args: string[]): Promise<Reply> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<Reply>((resolve) => {
      timer = setTimeout(() => resolve({ kind: "unknown", why: "timeout" }), this.timeout_ms);
    });
    const attempt = (async (): Promise<Reply> => {
      let sent = false;
      try {
        if (this.#conn === null) this.#conn = await RespClient.connect(this.port());
        const conn = this.#conn;
        await conn.send(encodeCommand(args));
        sent = true;
        const r = await conn.readFrame();
        if (r === null) return { kind: "unknown", why: "connection closed" };
        if (r.f.t === "-") return { kind: "error", message: r.f.line };
        return { kind: "ok", value: value(r.f) };
      } catch (err) {
        // Not even sent: it cannot have happened, same as an error reply.
        if (!sent) return { kind: "error", message: `connect/send: ${err}` };
        return { kind: "unknown", why: String(err) };
      }
    })();
    const reply = await Promise.race([attempt, timeout]);
    clearTimeout(timer);
    if (reply.kind !== "ok") this.close();
    // A dropped connection settles `attempt`; do not leave it unobserved.
    attempt.catch(() => {});
    return reply;
  }

  close(): void {
    this.#conn?.close();
    this.#conn = null;
  }
}

/** Keys and mix of a workload. */
export interface WorkloadOptions {
  seed: number;
  clients: number;
  registers: number;
  lists: number;
  /** Per-operation client timeout. */
  timeout_ms: number;
  /** Port of the db a client talks to (clients spread over dbs). */
  port: (client: number) => number;
}

/** What a workload recorded. */
export class Workload {
  readonly registers = new HistoryRecorder<RegisterInput, RegisterOutput>();
  readonly lists = new HistoryRecorder<ListInput, ListOutput>();
  /** Write-once keys whose SET was acknowledged. */
  readonly acked_once: string[] = [];
  /** List values whose RPUSH was acknowledged, by list key. */
  readonly acked_pushes = new Map<string, string[]>();
  counts = { ok: 0, unknown: 0, fail: 0, acked_writes: 0 };
  #stop = false;
  #running: Promise<void>[] = [];

  constructor(readonly opts: WorkloadOptions) {}

  registerKey(i: number): string {
    return `nem:r${i}`;
  }

  listKey(i: number): string {
    return `nem:l${i}`;
  }

  start(): void {
    for (let c = 0; c < this.opts.clients; c++) this.#running.push(this.#client(c));
  }

  async stop(): Promise<void> {
    this.#stop = true;
    await Promise.all(this.#running);
  }

  #settle<O>(
    h: { ok(o: O): void; unknown(): void; fail(): void },
    r: Reply,
    is_write: boolean,
    accept: (v: Reply & { kind: "ok" }) => O,
  ): boolean {
    if (r.kind === "ok") {
      h.ok(accept(r));
      this.counts.ok++;
      if (is_write) this.counts.acked_writes++;
      return true;
    }
    if (r.kind === "error" && !is_write) {
      h.fail();
      this.counts.fail++;
    } else if (r.kind === "error" && r.message.startsWith("connect/send")) {
      h.fail();
      this.counts.fail++;
    } else {
      // A write that timed out or got TRYAGAIN may still apply later.
      h.unknown();
      this.counts.unknown++;
    }
    return false;
  }

  async #client(c: number): Promise<void> {
    const rng = new Prng(this.opts.seed * 1000 + c);
    const conn = new TimedClient(() => this.opts.port(c), this.opts.timeout_ms);
    let seq = 0;
    try {
      while (!this.#stop) {
        seq++;
        const dice = rng.intBelow(100);
        if (dice < 70) await this.#registerOp(c, seq, rng, conn);
        else if (dice < 90) await this.#listOp(c, seq, rng, conn);
        else await this.#onceOp(c, seq, conn);
      }
    } finally {
      conn.close();
    }
  }

  async #registerOp(c: number, seq: number, rng: Prng, conn: TimedClient): Promise<void> {
    const key = this.registerKey(rng.intBelow(this.opts.registers));
    const d = rng.intBelow(100);
    // Unique numeric values, far apart, so INCR never needs a non-integer.
    const input: RegisterInput = d < 40
      ? { op: "get" }
      : d < 70
      ? { op: "set", value: String((c + 1) * 10_000_000 + seq * 1000) }
      : d < 90
      ? { op: "incr" }
      : { op: "del" };
    const args = input.op === "set" ? ["SET", key, input.value] : [input.op.toUpperCase(), key];
    const h = this.registers.invoke(c, key, input);
    const r = await conn.call(args);
    const ok = this.#settle(h, r, input.op !== "get", (v) => v.value as RegisterOutput);
    if (!ok && r.kind === "error") await pause(50);
  }

  async #listOp(c: number, seq: number, rng: Prng, conn: TimedClient): Promise<void> {
    const key = this.listKey(rng.intBelow(this.opts.lists));
    const input: ListInput = rng.intBelow(100) < 75
      ? { op: "rpush", value: `c${c}-${seq}` }
      : { op: "lrange" };
    const args = input.op === "rpush" ? ["RPUSH", key, input.value] : ["LRANGE", key, "0", "-1"];
    const h = this.lists.invoke(c, key, input);
    const r = await conn.call(args);
    const ok = this.#settle(h, r, input.op === "rpush", (v) => v.value as ListOutput);
    if (ok && input.op === "rpush") {
      if (!this.acked_pushes.has(key)) this.acked_pushes.set(key, []);
      this.acked_pushes.get(key)!.push(input.value);
    }
    if (!ok && r.kind === "error") await pause(50);
  }

  async #onceOp(c: number, seq: number, conn: TimedClient): Promise<void> {
    const key = `nem:once:${c}:${seq}`;
    const r = await conn.call(["SET", key, key]);
    if (r.kind === "ok" && r.value === "OK") {
      this.acked_once.push(key);
      this.counts.acked_writes++;
      this.counts.ok++;
    } else if (r.kind === "ok") {
      throw new Error(`SET ${key} answered ${JSON.stringify(r.value)}`);
    } else {
      this.counts.unknown++;
      await pause(50);
    }
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
