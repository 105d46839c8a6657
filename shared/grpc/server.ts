/**
 * Starting and stopping a grpc-js server under Deno.
 *
 * Deno quirk (DESIGN.md §10, denoland/deno#36788): Deno's http2 handle can
 * free the nghttp2 session inside `receive()` when a GOAWAY arrives, which
 * aborts the process (nghttp2's `find_stream_on_goaway` assertion, SIGSEGV,
 * or `free(): invalid pointer`) on a connection close. `http2_guard.ts`,
 * installed below, defuses that at its cause.
 *
 * Only if the guard cannot install (Deno's internals changed) does the server
 * fall back on the defence from before the cause was found: it counts the
 * calls of every connection and, at `MAX_CALLS_PER_CONNECTION_FALLBACK`,
 * sends GOAWAY itself, since the abort's odds grew with the calls a closing
 * connection had carried (after 100 calls rare, after 200 almost certain). It
 * is off otherwise because it costs callers: under load a recycled connection
 * failed about 1 call in 1,000 with a non-retryable `INTERNAL: Received
 * RST_STREAM ... write EPIPE` (180 of 185,518 in a 45 s churn stress; 0 of
 * 410,000 without the limit). Long-lived streams are one call each either way.
 * `shared/grpc/churn_test.ts` runs both.
 *
 * The same assertion fires when a GOAWAY naming the last stream the server
 * processed (what `Http2Session.close()` sends) meets a client stream opened
 * after it: measured, 2 of 49 churn runs under load aborted in the server's
 * SIGTERM shutdown, whose graceful close sends exactly that. So every GOAWAY
 * the server starts is the two-step one of RFC 9113 §6.8: first a notice
 * naming stream 2^31-1 (no stream can lie past it; the client stops opening
 * streams), and the final one only once the client had time to see it
 * (`NOTICE_MS`, `SHUTDOWN_NOTICE_MS`): the client usually closes the connection itself first.
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import * as http2 from "node:http2";
import { splitHostPort } from "../net.ts";
import { installHttp2Guard } from "./http2_guard.ts";
import { serviceDefinition } from "./service.ts";

// Before this process opens its first HTTP/2 connection (http2_guard.ts: denoland/deno#36788).
installHttp2Guard();

/** Calls after which the server recycles a connection when the http2 guard is off (module doc). */
export const MAX_CALLS_PER_CONNECTION_FALLBACK = 64;
/** From the GOAWAY notice to the final GOAWAY of a connection the server recycles. */
const NOTICE_MS = 1000;
/** The same at shutdown, where the process waits for it (clients here are a loopback away). */
const SHUTDOWN_NOTICE_MS = 100;
/** Highest HTTP/2 stream id: a GOAWAY naming it lets every stream finish. */
const LAST_STREAM_ID = 2 ** 31 - 1;

/** One service to serve: its full proto name and the handlers by method name. */
export interface ServiceBinding {
  service: string;
  handlers: grpc.UntypedServiceImplementation;
}

export interface GrpcServerOptions {
  /** `host:port`; port 0 picks a free port. */
  addr: string;
  services: ServiceBinding[];
  /** Calls per connection before GOAWAY; 0 is none. Default: none, or the fallback without the guard. */
  max_calls_per_connection?: number;
  /** Optional age limit per connection; 0 (default) means none. */
  max_connection_age_ms?: number;
  /** Largest message accepted, bytes. */
  max_message_bytes?: number;
}

/** A running server. */
export class GrpcServer {
  #closed = false;
  constructor(
    readonly server: grpc.Server,
    readonly host: string,
    readonly port: number,
    /** The server's open HTTP/2 sessions (see trackSessions). */
    readonly sessions: ReadonlySet<http2.Http2Session> = new Set(),
  ) {}

  /** `host:port` clients should dial. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  /**
   * Stops accepting calls, waits up to `grace_ms` for calls in flight, then
   * cancels whatever is left. Safe to call twice.
   */
  async shutdown(grace_ms = 2000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // The notice first (see module doc); grpc-js's own close sends the final GOAWAY.
    for (const session of this.sessions) sendNotice(session);
    if (this.sessions.size > 0) await sleep(Math.min(SHUTDOWN_NOTICE_MS, grace_ms / 2));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceful = new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), grace_ms);
    });
    const outcome = await Promise.race([graceful, timeout]);
    clearTimeout(timer);
    if (outcome === "timeout") this.server.forceShutdown();
  }
}

/** Starts a server with the given services bound; resolves once it listens. */
export async function startGrpcServer(opts: GrpcServerOptions): Promise<GrpcServer> {
  const { hostname: host, port: wanted_port } = splitHostPort(opts.addr);
  const bind_addr = `${host}:${wanted_port}`;
  const age_ms = opts.max_connection_age_ms ?? 0;
  const max_calls = opts.max_calls_per_connection ??
    (installHttp2Guard() ? 0 : MAX_CALLS_PER_CONNECTION_FALLBACK);
  const max_bytes = opts.max_message_bytes ?? 64 * 1024 * 1024;
  const options: grpc.ServerOptions = {
    "grpc.max_receive_message_length": max_bytes,
    "grpc.max_send_message_length": max_bytes,
  };
  if (age_ms > 0) {
    options["grpc.max_connection_age_ms"] = age_ms;
    // Calls still running when the connection is recycled may finish.
    options["grpc.max_connection_age_grace_ms"] = 30_000;
  }
  const server = new grpc.Server(options);
  for (const binding of opts.services) {
    server.addService(serviceDefinition(binding.service), binding.handlers);
  }
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(bind_addr, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err) reject(new Error(`cannot listen on ${opts.addr}: ${err.message}`));
      else resolve(bound);
    });
  });
  const sessions = trackSessions(server);
  if (max_calls > 0) limitCallsPerConnection(server, max_calls);
  return new GrpcServer(server, host, port, sessions);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The open sessions of the server's listeners, kept up to date. */
function trackSessions(server: grpc.Server): Set<http2.Http2Session> {
  const sessions = new Set<http2.Http2Session>();
  for (const h2 of http2ServersOf(server)) {
    h2.on("session", (session: http2.Http2Session) => {
      sessions.add(session);
      session.once("close", () => sessions.delete(session));
    });
  }
  return sessions;
}

/** The first GOAWAY of two (see module doc); false when the session is already gone. */
function sendNotice(session: http2.Http2Session): boolean {
  if (session.closed || session.destroyed) return false;
  try {
    session.goaway(http2.constants.NGHTTP2_NO_ERROR, LAST_STREAM_ID);
    return true;
  } catch {
    return false; // closing already
  }
}

/** Closes `session` (the final GOAWAY) unless its client closed it first. */
function closeLater(session: http2.Http2Session): void {
  const timer = setTimeout(() => {
    if (session.closed || session.destroyed) return;
    try {
      session.close();
    } catch {
      session.destroy(); // already closing
    }
  }, NOTICE_MS);
  Deno.unrefTimer(timer);
  session.once("close", () => clearTimeout(timer));
}

/** The http2 servers grpc-js created for its listeners (a private field). */
function http2ServersOf(server: grpc.Server): http2.Http2Server[] {
  const internal = server as unknown as { http2Servers?: Map<http2.Http2Server, unknown> };
  if (!(internal.http2Servers instanceof Map)) {
    throw new Error("grpc-js internals changed: Server.http2Servers is missing");
  }
  return [...internal.http2Servers.keys()];
}

/** Sends GOAWAY on a connection once it has carried `max_calls` calls. */
function limitCallsPerConnection(server: grpc.Server, max_calls: number): void {
  const calls = new WeakMap<http2.Http2Session, number>();
  for (const h2 of http2ServersOf(server)) {
    h2.on("stream", (stream: http2.ServerHttp2Stream) => {
      const session = stream.session;
      if (session === undefined) return;
      const count = (calls.get(session) ?? 0) + 1;
      calls.set(session, count);
      if (count !== max_calls) return;
      if (sendNotice(session)) closeLater(session);
    });
  }
}
