/**
 * gRPC clients: one channel per (service, address), deadlines on every call,
 * reconnect handled by grpc-js, and errors mapped to `RpcError`.
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { installHttp2Guard } from "./http2_guard.ts";
import { serviceDefinition } from "./service.ts";

// Before this process opens its first HTTP/2 connection (http2_guard.ts: denoland/deno#36788).
installHttp2Guard();

/** A failed call: the gRPC status plus where it went. */
export class RpcError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
    readonly addr: string,
    readonly method: string,
  ) {
    super(`${method} to ${addr} failed: ${grpc.status[code] ?? code}: ${details}`);
    this.name = "RpcError";
  }

  /** True when the same call may succeed later or elsewhere (peer down, busy, timed out). */
  get retryable(): boolean {
    return this.code === grpc.status.UNAVAILABLE ||
      this.code === grpc.status.DEADLINE_EXCEEDED ||
      this.code === grpc.status.RESOURCE_EXHAUSTED ||
      this.code === grpc.status.CANCELLED;
  }
}

/** Default per-call deadline. */
export const DEADLINE_MS_DEFAULT = 5000;

type GenericClient = grpc.Client & Record<string, unknown>;

/** A client of one service at one address. */
export class ServiceClient {
  readonly #client: GenericClient;
  #closed = false;

  constructor(readonly service: string, readonly addr: string) {
    const Ctor = grpc.makeGenericClientConstructor(serviceDefinition(service), service);
    this.#client = new Ctor(addr, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": 64 * 1024 * 1024,
      "grpc.max_send_message_length": 64 * 1024 * 1024,
      "grpc.initial_reconnect_backoff_ms": 100,
      "grpc.max_reconnect_backoff_ms": 2000,
    }) as unknown as GenericClient;
  }

  /** One unary call; rejects with RpcError on failure or after `deadline_ms`. */
  unary<Res>(method: string, request: object, deadline_ms = DEADLINE_MS_DEFAULT): Promise<Res> {
    const fn = this.#client[method] as unknown as (
      req: object,
      opts: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res: Res) => void,
    ) => grpc.ClientUnaryCall;
    if (typeof fn !== "function") {
      return Promise.reject(new Error(`${this.service} has no method ${method}`));
    }
    const deadline = new Date(Date.now() + deadline_ms);
    return new Promise<Res>((resolve, reject) => {
      fn.call(this.#client, request, { deadline }, (err, res) => {
        if (err) reject(new RpcError(err.code, err.details, this.addr, method));
        else resolve(res);
      });
    });
  }

  /** A bidirectional stream (for BatchCommands-style hot paths). */
  duplex(method: string): grpc.ClientDuplexStream<object, object> {
    const fn = this.#client[method] as unknown as () => grpc.ClientDuplexStream<object, object>;
    return fn.call(this.#client);
  }

  /** A client-streaming call; `done` resolves with the single response. */
  clientStream<Res>(
    method: string,
  ): { stream: grpc.ClientWritableStream<object>; done: Promise<Res> } {
    const fn = this.#client[method] as unknown as (
      cb: (err: grpc.ServiceError | null, res: Res) => void,
    ) => grpc.ClientWritableStream<object>;
    let stream!: grpc.ClientWritableStream<object>;
    const done = new Promise<Res>((resolve, reject) => {
      stream = fn.call(this.#client, (err, res) => {
        if (err) reject(new RpcError(err.code, err.details, this.addr, method));
        else resolve(res);
      });
    });
    return { stream, done };
  }

  /** Closes the channel; a second call does nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#client.close();
  }
}

/** Clients shared by address; `close()` closes every channel. */
export class ClientPool {
  readonly #clients = new Map<string, ServiceClient>();

  constructor(readonly service: string) {}

  get(addr: string): ServiceClient {
    let client = this.#clients.get(addr);
    if (client === undefined) {
      client = new ServiceClient(this.service, addr);
      this.#clients.set(addr, client);
    }
    return client;
  }

  /** Drops the channel to `addr` (e.g. the store was removed). */
  drop(addr: string): void {
    this.#clients.get(addr)?.close();
    this.#clients.delete(addr);
  }

  close(): void {
    for (const client of this.#clients.values()) client.close();
    this.#clients.clear();
  }
}
