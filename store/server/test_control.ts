/**
 * The test control endpoint (`eraft store --test-control-port N`): a tiny
 * HTTP server on 127.0.0.1 through which cross-process tests inject transport
 * faults, crash a worker, and read the store's regions. Never started unless
 * the flag is given.
 *
 * - `GET /status` → `{ store_id, workers, regions, filter }`
 * - `POST /filter` with FaultRules JSON → replaces those rules
 * - `POST /filter/clear` → removes every rule
 * - `POST /crash?worker=N` → worker N throws inside its loop
 * @module
 */
import type { RegionInfo } from "../protocol.ts";
import type { FaultFilter, FaultRules } from "./fault_filter.ts";
import type { Supervisor } from "./supervisor.ts";

/** Hex of a key, for JSON. */
export function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A RegionInfo as JSON-friendly data (keys in hex). */
export function regionJson(info: RegionInfo): Record<string, unknown> {
  const r = info.region;
  return {
    id: r.id,
    start_key: hex(r.start_key),
    end_key: hex(r.end_key),
    region_epoch: r.region_epoch,
    peers: r.peers,
    worker_id: info.worker_id,
    peer_id: info.peer_id,
    leader_peer_id: info.leader_peer_id,
    term: info.term,
  };
}

/** Starts the endpoint; resolves with the server once it listens. */
export async function startTestControl(
  port: number,
  store_id: number,
  supervisor: Supervisor,
  filter: FaultFilter,
): Promise<Deno.HttpServer<Deno.NetAddr>> {
  let ready!: () => void;
  const listening = new Promise<void>((r) => (ready = r));
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => ready() },
    async (req) => {
      try {
        return await route(req, store_id, supervisor, filter);
      } catch (err) {
        return Response.json({ error: String(err) }, { status: 400 });
      }
    },
  );
  await listening;
  return server;
}

async function route(
  req: Request,
  store_id: number,
  supervisor: Supervisor,
  filter: FaultFilter,
): Promise<Response> {
  const url = new URL(req.url);
  if (req.method === "GET" && url.pathname === "/status") {
    return Response.json({
      store_id,
      workers: supervisor.workerStatus(),
      regions: supervisor.regions().map(regionJson),
      filter: filter.rules(),
    });
  }
  if (req.method === "POST" && url.pathname === "/filter") {
    filter.set(await req.json() as FaultRules);
    return Response.json(filter.rules());
  }
  if (req.method === "POST" && url.pathname === "/filter/clear") {
    filter.clear();
    return Response.json(filter.rules());
  }
  if (req.method === "POST" && url.pathname === "/crash") {
    const worker_id = Number(url.searchParams.get("worker") ?? "0");
    return Response.json({ crashed: supervisor.crash(worker_id) });
  }
  await req.body?.cancel();
  return Response.json({ error: "not found" }, { status: 404 });
}
