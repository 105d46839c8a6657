/**
 * Store-to-store Raft transport (`storepb.RaftTransport`).
 *
 * Outgoing: messages are grouped by destination address into one long-lived
 * `Raft` stream each (`RaftStream`: bounded queue, batching per event-loop
 * turn, reconnect with backoff). `MsgSnapshot` messages go through the
 * `Snapshot` RPC instead, in chunks of `snapshot_chunk_bytes`, and their
 * outcome is reported back to the sending region (`snapshot_status`).
 *
 * Incoming: every message goes to the worker hosting its region; a message for
 * a region not hosted here is handed to the worker that would host it, which
 * creates the peer if the region's epoch says it belongs here.
 *
 * A `FaultFilter` (tests only) drops or delays messages per store.
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import type * as raft_serverpb from "@eraft/proto/gen/raft_serverpb.ts";
import { ServiceClient } from "@eraft/shared/grpc";
import type { FrameDirectory } from "@eraft/shared/frame_directory";
import {
  decodeRaftMessage,
  type EncodedRaftMessage,
  encodeRaftMessage,
  splitRaftBatch,
} from "../raft_wire.ts";
import { FaultFilter } from "./fault_filter.ts";
import { RaftStream } from "./raft_stream.ts";
import { SnapshotAssembler, snapshotChunks } from "./snapshot_chunks.ts";

/** Where incoming messages and transport outcomes go (the supervisor). */
export interface RaftSink {
  deliverRaft(msgs: EncodedRaftMessage[]): number;
  unreachable(region_id: number, to_peer_id: number): void;
  snapshotStatus(region_id: number, to_peer_id: number, ok: boolean): void;
}

/** Settings of the transport. */
export interface RaftTransportOptions {
  store_id: number;
  sink: RaftSink;
  filter?: FaultFilter;
  /** Messages waiting per destination before the oldest are dropped. */
  max_queue_msgs?: number;
  /** Messages per batch frame. */
  max_batch_msgs?: number;
  snapshot_chunk_bytes?: number;
  /** Largest snapshot accepted from a peer, bytes. */
  max_snapshot_bytes?: number;
  /** A snapshot send taking longer than this fails. */
  snapshot_deadline_ms?: number;
  /** Snapshot sends in flight from this store; more fail at once (Raft retries). */
  max_snapshot_sends?: number;
  log?: (line: string) => void;
}

const DEFAULTS = {
  max_queue_msgs: 8192,
  max_batch_msgs: 1024,
  snapshot_chunk_bytes: 1024 * 1024,
  max_snapshot_bytes: 1024 * 1024 * 1024,
  snapshot_deadline_ms: 120_000,
  max_snapshot_sends: 4,
};

/** The Raft transport of one store. */
export class RaftTransport {
  readonly filter: FaultFilter;
  /**
   * Frame addresses of the other stores (set once meta is known). A store
   * whose address is unknown gets its messages over the gRPC `Raft` stream.
   */
  frames: FrameDirectory | null = null;
  readonly #opts: RaftTransportOptions & typeof DEFAULTS;
  readonly #streams = new Map<string, RaftStream>();
  readonly #snapshot_clients = new Map<string, ServiceClient>();
  readonly #delay_timers = new Set<ReturnType<typeof setTimeout>>();
  #snapshot_sends = 0;
  #closed = false;

  constructor(opts: RaftTransportOptions) {
    this.#opts = { ...DEFAULTS, ...opts };
    this.filter = opts.filter ?? new FaultFilter();
  }

  /** Sends messages from local workers to their destination stores. */
  send(msgs: EncodedRaftMessage[]): void {
    if (this.#closed) return;
    const by_addr = new Map<string, EncodedRaftMessage[]>();
    for (const msg of msgs) {
      if (msg.to_addr === "") {
        this.#opts.sink.unreachable(msg.region_id, msg.to_peer_id);
        continue;
      }
      if (this.filter.dropsTo(msg.to_store_id)) continue; // injected loss: silent, like a cut cable
      const delay_ms = this.filter.delayOf(msg.to_store_id);
      if (delay_ms > 0) {
        this.#later(delay_ms, () => this.send([msg]));
        continue;
      }
      if (msg.snapshot) {
        void this.#sendSnapshot(msg);
        continue;
      }
      let list = by_addr.get(msg.to_addr);
      if (list === undefined) by_addr.set(msg.to_addr, list = []);
      list.push(msg);
    }
    for (const [addr, list] of by_addr) this.#streamTo(addr, list[0].to_store_id).send(list);
  }

  /** Messages queued for `addr` (for tests and stats). */
  queued(addr: string): number {
    return this.#streams.get(addr)?.queued ?? 0;
  }

  /** grpc-js handlers of `storepb.RaftTransport`. */
  handlers(): grpc.UntypedServiceImplementation {
    return {
      Raft: (call: grpc.ServerReadableStream<object, object>, done: grpc.sendUnaryData<object>) =>
        this.#serveRaft(call, done),
      Snapshot: (
        call: grpc.ServerReadableStream<object, object>,
        done: grpc.sendUnaryData<object>,
      ) => this.#serveSnapshot(call, done),
    };
  }

  /** Closes every link and cancels delayed messages. */
  close(): void {
    this.#closed = true;
    for (const t of this.#delay_timers) clearTimeout(t);
    this.#delay_timers.clear();
    for (const s of this.#streams.values()) s.close();
    this.#streams.clear();
    for (const c of this.#snapshot_clients.values()) c.close();
    this.#snapshot_clients.clear();
  }

  #later(delay_ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#delay_timers.delete(timer);
      fn();
    }, delay_ms);
    this.#delay_timers.add(timer);
  }

  #streamTo(addr: string, store_id: number): RaftStream {
    let stream = this.#streams.get(addr);
    if (stream === undefined) {
      stream = new RaftStream({
        addr,
        frame_addr: () => this.frames?.get(store_id) ?? null,
        frame_failed: () => this.frames?.forget(store_id),
        max_queue_msgs: this.#opts.max_queue_msgs,
        max_batch_msgs: this.#opts.max_batch_msgs,
        reconnect_ms_min: 100,
        reconnect_ms_max: 2000,
        on_unreachable: (region_id, to_peer_id) =>
          this.#opts.sink.unreachable(region_id, to_peer_id),
      });
      this.#streams.set(addr, stream);
    }
    return stream;
  }

  async #sendSnapshot(msg: EncodedRaftMessage): Promise<void> {
    const to_peer_id = msg.to_peer_id;
    if (this.#snapshot_sends >= this.#opts.max_snapshot_sends) {
      this.#opts.sink.snapshotStatus(msg.region_id, to_peer_id, false);
      return;
    }
    this.#snapshot_sends++;
    let ok = false;
    const addr = msg.to_addr;
    try {
      await this.#streamSnapshot(addr, decodeRaftMessage(msg.bytes));
      ok = true;
    } catch (err) {
      this.#opts.log?.(`snapshot of region ${msg.region_id} to ${addr} failed: ${err}`);
    } finally {
      this.#snapshot_sends--;
    }
    if (!this.#closed) this.#opts.sink.snapshotStatus(msg.region_id, to_peer_id, ok);
  }

  async #streamSnapshot(addr: string, msg: raft_serverpb.RaftMessage): Promise<void> {
    let client = this.#snapshot_clients.get(addr);
    if (client === undefined) {
      client = new ServiceClient("storepb.RaftTransport", addr);
      this.#snapshot_clients.set(addr, client);
    }
    const { stream, done } = client.clientStream<raft_serverpb.Done>("Snapshot");
    stream.on("error", () => {}); // reported through `done`
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        stream.cancel();
        reject(new Error(`no answer within ${this.#opts.snapshot_deadline_ms} ms`));
      }, this.#opts.snapshot_deadline_ms);
    });
    const writing = this.#writeChunks(stream, msg).then(() => done);
    writing.catch(() => {}); // the race below reports it
    try {
      await Promise.race([writing, done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #writeChunks(
    stream: grpc.ClientWritableStream<object>,
    msg: raft_serverpb.RaftMessage,
  ): Promise<void> {
    for (const chunk of snapshotChunks(msg, this.#opts.snapshot_chunk_bytes)) {
      if (this.#closed) throw new Error("transport closed");
      if (!stream.write(chunk)) await new Promise((r) => stream.once("drain", r));
    }
    stream.end();
  }

  /**
   * Delivers an incoming `RaftMessageBatch` frame without decoding its
   * messages (the workers do). Returns an error text if the frame is not a
   * well-formed batch; nothing of it is delivered then.
   */
  receiveFrame(body: Uint8Array): string | null {
    const msgs = splitRaftBatch(body);
    if (typeof msgs === "string") return msgs;
    this.#deliver(msgs);
    return null;
  }

  /** Delivers a batch from the gRPC stream (decoded by grpc-js; the early, rarer path). */
  receive(batch: raft_serverpb.RaftMessageBatch): void {
    this.#deliver((batch.msgs ?? []).map(encodeRaftMessage));
  }

  #deliver(msgs: EncodedRaftMessage[]): void {
    const accepted = msgs.filter((m) => this.#accept(m));
    if (accepted.length > 0) this.#opts.sink.deliverRaft(accepted);
  }

  #serveRaft(call: grpc.ServerReadableStream<object, object>, done: grpc.sendUnaryData<object>) {
    call.on("data", (batch: raft_serverpb.RaftMessageBatch) => this.receive(batch));
    call.on("error", () => {}); // the peer went away; it reconnects
    call.on("end", () => done(null, {}));
  }

  #serveSnapshot(
    call: grpc.ServerReadableStream<object, object>,
    done: grpc.sendUnaryData<object>,
  ) {
    const assembler = new SnapshotAssembler(this.#opts.max_snapshot_bytes);
    let failed = false;
    const fail = (code: grpc.status, details: string) => {
      if (failed) return;
      failed = true;
      done({ code, details, name: "SnapshotError", message: details });
    };
    call.on("data", (chunk: raft_serverpb.SnapshotChunk) => {
      if (failed) return;
      const err = assembler.add(chunk);
      if (err !== null) fail(grpc.status.INVALID_ARGUMENT, err);
    });
    call.on("error", () => (failed = true));
    call.on("end", () => {
      if (failed) return;
      const result = assembler.finish();
      if (typeof result === "string") return fail(grpc.status.INVALID_ARGUMENT, result);
      const msg = encodeRaftMessage(result);
      if (!this.#accept(msg)) return fail(grpc.status.UNAVAILABLE, "dropped by fault filter");
      this.#opts.sink.deliverRaft([msg]);
      done(null, {});
    });
  }

  /** Incoming messages must be for this store and pass the fault filter. */
  #accept(m: EncodedRaftMessage): boolean {
    if (this.filter.drops(m.from_store_id)) return false;
    if (m.to_store_id !== this.#opts.store_id) {
      this.#opts.log?.(
        `dropped a message for store ${m.to_store_id} (this is ${this.#opts.store_id})`,
      );
      return false;
    }
    return true;
  }
}
