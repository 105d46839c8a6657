/**
 * `eraft db`: one stateless E-DB process — a RESP2/RESP3 server whose backend
 * is the cluster named by `--meta`. Any number may run against one cluster.
 * Prints `db listening on HOST:PORT` once it serves; SIGTERM/SIGINT stop it.
 * @module
 */
import {
  addrFlag,
  type CommandSpec,
  type Flags,
  intFlag,
  stringFlag,
  UsageError,
} from "@eraft/shared/cli";
import { gauge, startMetricsServer } from "@eraft/shared/metrics";
import { isSupervisedChild, supervise, watchSupervisor } from "@eraft/shared/supervise";
import { ClusterBackend } from "./cluster_backend.ts";
import { type DbLimits, DEFAULT_LIMITS, startDbServer } from "./server.ts";

/** Time allowed for a clean stop after SIGTERM. */
const STOP_GRACE_MS = 3000;

const str = (help: string, def?: string) => ({ type: "string" as const, help, default: def });

/** The `eraft db` subcommand. */
export const dbCommand: CommandSpec = {
  name: "db",
  summary: "run an E-DB node (RESP2/RESP3 front end over the cluster)",
  flags: {
    addr: str("Redis protocol listen address host:port", "127.0.0.1:6379"),
    meta: str("meta addresses host:port,... (required)"),
    requirepass: str("password clients must AUTH with"),
    "max-clients": str("maximum client connections", String(DEFAULT_LIMITS.max_clients)),
    "max-bulk-len": str("largest bulk string, bytes", String(DEFAULT_LIMITS.max_bulk_bytes)),
    "max-multibulk-len": str("most arguments in one request", "1048576"),
    "max-pipeline-bytes": str(
      "unprocessed request bytes buffered per client",
      String(DEFAULT_LIMITS.max_pipeline_bytes),
    ),
    "metrics-addr": str(
      "Prometheus /metrics HTTP address host:port (port 0: any; empty: none)",
      "127.0.0.1:0",
    ),
    "deadline-ms": str("time one cluster call may take, retries included", "10000"),
    supervise: {
      type: "boolean",
      help: "run the server as a child process and restart it if it dies (shared/supervise.ts)",
    },
  },
  run: runDb,
};

/** Parsed `eraft db` options. */
export interface DbOptions {
  addr: string;
  meta: string[];
  requirepass: string | null;
  limits: DbLimits;
  deadline_ms: number;
  /** "" = no metrics endpoint. */
  metrics_addr: string;
}

/** Turns flags into options; a UsageError for bad values. */
export function dbOptions(flags: Flags): DbOptions {
  const meta = stringFlag(flags, "meta").split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (meta.length === 0) throw new UsageError("--meta needs at least one host:port");
  for (const m of meta) {
    if (!/^[^:]+:\d+$/.test(m)) throw new UsageError(`--meta: '${m}' is not host:port`);
  }
  const pass = flags.requirepass;
  return {
    addr: addrFlag(flags, "addr"),
    meta,
    requirepass: typeof pass === "string" && pass !== "" ? pass : null,
    limits: {
      ...DEFAULT_LIMITS,
      max_clients: intFlag(flags, "max-clients", 1, 1_000_000),
      max_bulk_bytes: intFlag(flags, "max-bulk-len", 1, 2 ** 32),
      max_multibulk_len: intFlag(flags, "max-multibulk-len", 1, 2 ** 31 - 1),
      max_pipeline_bytes: intFlag(flags, "max-pipeline-bytes", 1024, 2 ** 40),
    },
    deadline_ms: intFlag(flags, "deadline-ms", 10, 600_000),
    metrics_addr: addrFlag(flags, "metrics-addr", true), // empty: no metrics server
  };
}

async function runDb(flags: Flags): Promise<number> {
  const opts = dbOptions(flags); // usage errors surface here, before any child starts
  if (flags.supervise === true && !isSupervisedChild()) return await supervise({ name: "db" });
  watchSupervisor();
  const backend = new ClusterBackend({ meta: opts.meta, deadline_ms: opts.deadline_ms });
  const server = await startDbServer({
    addr: opts.addr,
    backend,
    requirepass: opts.requirepass,
    limits: opts.limits,
  });
  const metrics = opts.metrics_addr === "" ? null : await startMetricsServer(opts.metrics_addr);
  if (metrics) {
    gauge("eraft_db_connected_clients", "client connections", [], (g) => {
      g.set(server.state.clients.size);
    });
    gauge("eraft_db_rejected_connections", "connections refused (max clients)", [], (g) => {
      g.set(server.state.rejected_connections);
    });
    console.log(`metrics on http://${metrics.addr}/metrics`);
  }
  console.log(`db listening on ${server.hostname}:${server.port} (meta ${opts.meta.join(",")})`);
  // Warm the region cache in the background; commands fill it lazily anyway.
  backend.loadAllRegions().then(
    (regions) => console.error(`db: ${regions.length} region(s) known`),
    (e) => console.error(`db: region warm-up failed (will retry per command): ${e.message ?? e}`),
  );
  const signal = await new Promise<Deno.Signal>((resolve) => {
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
      Deno.addSignalListener(sig, () => resolve(sig));
    }
  });
  console.error(`db: ${signal}: stopping`);
  // Closing the backend first fails commands waiting on the cluster, so every
  // connection finishes quickly; the grace bounds what is left.
  let timer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise((r) => (timer = setTimeout(r, STOP_GRACE_MS)));
  await Promise.race([Promise.all([backend.close(), server.close(), metrics?.close()]), grace]);
  clearTimeout(timer);
  return 0;
}
