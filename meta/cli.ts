/**
 * `eraft meta`: runs one E-META node until SIGTERM or SIGINT. Prints
 * `meta <id> listening on <addr>` once it serves (tests wait for it).
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
import { parseInitialCluster } from "@eraft/store";
import { isSupervisedChild, supervise, watchSupervisor } from "@eraft/shared/supervise";
import { MetaNode, type MetaNodeOptions } from "./node.ts";
import { SCHEDULER_DEFAULTS } from "./scheduler.ts";

const str = (help: string, def?: string) => ({ type: "string" as const, help, default: def });

/** Parses a duration: `1500ms`, `60s`, `2m`, or a bare number of seconds. */
export function parseDurationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`bad duration '${text}': use e.g. 1500ms, 60s or 2m`);
  const n = Number(m[1]);
  const ms = m[2] === "ms" ? n : m[2] === "m" ? n * 60_000 : n * 1000;
  if (!(ms >= 1) || ms > 7 * 24 * 3600_000) throw new UsageError(`duration '${text}' out of range`);
  return Math.round(ms);
}

/** The `eraft meta` subcommand. */
export const metaCommand: CommandSpec = {
  name: "meta",
  summary: "run an E-META node (cluster metadata on a single-region store)",
  flags: {
    addr: str("gRPC listen address host:port", "127.0.0.1:2379"),
    data: str("data directory", "data/meta1"),
    "initial-cluster": str("meta members id=host:port,... (1 or 3 nodes; default: this one)"),
    "store-down-timeout": str("a silent store's peers are replaced after this", "60s"),
    "max-replicas": str("replicas per region", "3"),
    "tick-ms": str("milliseconds per Raft tick of the meta region", "100"),
    "metrics-addr": str("HTTP address of /metrics and the dashboard (port 0: any)", "127.0.0.1:0"),
    supervise: {
      type: "boolean",
      help: "run the node as a child process and restart it if it dies (shared/supervise.ts)",
    },
  },
  run: runMeta,
};

/** Turns parsed flags into node options; a UsageError for bad values. */
export function metaOptions(flags: Flags): MetaNodeOptions {
  const addr = addrFlag(flags, "addr");
  let members: Map<number, string>;
  const ic = flags["initial-cluster"];
  try {
    members = typeof ic === "string" && ic !== "" ? parseInitialCluster(ic) : new Map([[1, addr]]);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (members.size !== 1 && members.size !== 3) {
    throw new UsageError(`--initial-cluster lists ${members.size} members: use 1 or 3`);
  }
  const id = [...members].find(([, a]) => a === addr)?.[0];
  if (id === undefined) throw new UsageError(`--addr ${addr} is not in --initial-cluster`);
  return {
    id,
    members,
    data_dir: stringFlag(flags, "data"),
    tick_ms: intFlag(flags, "tick-ms", 1, 10_000),
    metrics_addr: addrFlag(flags, "metrics-addr", true) || undefined,
    scheduler: {
      ...SCHEDULER_DEFAULTS,
      store_down_timeout_ms: parseDurationMs(stringFlag(flags, "store-down-timeout")),
      max_replicas: intFlag(flags, "max-replicas", 1, 7),
    },
    log: (line) => console.error(`meta ${id}: ${line}`),
  };
}

async function runMeta(flags: Flags): Promise<number> {
  const opts = metaOptions(flags); // usage errors surface here, before any child starts
  if (flags.supervise === true && !isSupervisedChild()) return await supervise({ name: "meta" });
  watchSupervisor();
  const node = await MetaNode.start(opts);
  const http = node.store.metrics?.addr;
  if (http) console.log(`dashboard on http://${http}/ (metrics on http://${http}/metrics)`);
  console.log(`meta ${opts.id} listening on ${node.addr}`);
  const signal = await new Promise<Deno.Signal>((resolve) => {
    const on = (sig: Deno.Signal) => () => resolve(sig);
    for (const sig of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(sig, on(sig));
  });
  opts.log?.(`${signal}: stopping`);
  await node.stop();
  return 0;
}
