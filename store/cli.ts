/**
 * `eraft store`: runs one E-STORE process until SIGTERM or SIGINT.
 * Prints `store <id> listening on <addr>` once it serves (tests wait for it).
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
import { isSupervisedChild, supervise, watchSupervisor } from "@eraft/shared/supervise";
import { type MetaAgent, startWithMeta } from "./server/heartbeat.ts";
import { MetaClient } from "./server/meta_client.ts";
import { parseInitialCluster, StoreNode, type StoreNodeOptions } from "./server/node.ts";

const str = (help: string, def?: string) => ({ type: "string" as const, help, default: def });

/** The `eraft store` subcommand. */
export const storeCommand: CommandSpec = {
  name: "store",
  summary: "run an E-STORE node (regions in Web Workers over the file engine)",
  flags: {
    addr: str("gRPC listen address host:port", "127.0.0.1:20160"),
    "frame-addr": str(
      "frame listener host:port for BatchCommands and Raft without HTTP/2 (default: the gRPC host, any port; empty: none)",
    ),
    data: str("data directory", "data/store1"),
    meta: str("meta addresses host:port,...: register, heartbeat, take operators"),
    workers: str("region worker count", String(navigator.hardwareConcurrency)),
    "store-id": str("static store id (with --meta: allocated by meta unless given)"),
    "initial-cluster": str("static bootstrap: id=host:port,... creates region 1 on those stores"),
    "tick-ms": str("milliseconds per Raft tick", "100"),
    "raft-log-gc-count-limit": str("compact a region's log past this many entries", "10000"),
    "metrics-addr": str("Prometheus /metrics HTTP address host:port (port 0: any)", "127.0.0.1:0"),
    "test-control-port": str("testing only: fault-injection HTTP endpoint on 127.0.0.1"),
    "store-heartbeat-ms": str("with --meta: store heartbeat interval", "2000"),
    "region-heartbeat-ms": str("with --meta: region heartbeat interval", "1000"),
    "split-size-bytes": str("with --meta: split a region past this size", String(96 * 2 ** 20)),
    "split-keys": str("with --meta: split a region past this many keys", "960000"),
    "phase-cpu": {
      type: "boolean",
      help: "account worker CPU by loop phase (eraft_worker_phase_cpu_seconds_total; costs ~1%)",
    },
    supervise: {
      type: "boolean",
      help: "run the node as a child process and restart it if it dies (shared/supervise.ts)",
    },
  },
  run: runStore,
};

/** Turns parsed flags into node options; a UsageError for bad values. */
export function storeOptions(flags: Flags): StoreNodeOptions {
  const with_meta = typeof flags.meta === "string" && flags.meta !== "";
  if (flags["store-id"] === undefined && !with_meta) {
    throw new UsageError("--store-id is required without --meta");
  }
  let initial_cluster: Map<number, string> | undefined;
  if (typeof flags["initial-cluster"] === "string" && flags["initial-cluster"] !== "") {
    try {
      initial_cluster = parseInitialCluster(flags["initial-cluster"]);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const opts: StoreNodeOptions = {
    addr: addrFlag(flags, "addr"),
    data_dir: stringFlag(flags, "data"),
    store_id: flags["store-id"] === undefined ? 0 : intFlag(flags, "store-id", 1, 2 ** 40),
    workers: intFlag(flags, "workers", 1, 256),
    initial_cluster,
    tick_ms: intFlag(flags, "tick-ms", 1, 10_000),
    raft_log_gc_count_limit: intFlag(flags, "raft-log-gc-count-limit", 1, 1e9),
    raft_log_gc_keep_entries: Math.min(1000, intFlag(flags, "raft-log-gc-count-limit", 1, 1e9)),
    phase_cpu: flags["phase-cpu"] === true,
    log: (line) => console.error(`store ${flags["store-id"] ?? "(new)"}: ${line}`),
  };
  const metrics_addr = addrFlag(flags, "metrics-addr", true);
  if (metrics_addr !== "") opts.metrics_addr = metrics_addr;
  if (flags["frame-addr"] !== undefined) opts.frame_addr = addrFlag(flags, "frame-addr", true);
  if (flags["test-control-port"] !== undefined) {
    opts.test_control_port = intFlag(flags, "test-control-port", 0, 65535);
  }
  return opts;
}

async function runStore(flags: Flags): Promise<number> {
  const opts = storeOptions(flags); // usage errors surface here, before any child starts
  if (flags.supervise === true && !isSupervisedChild()) return await supervise({ name: "store" });
  watchSupervisor();
  let agent: MetaAgent | null = null;
  let meta: MetaClient | null = null;
  let node: StoreNode;
  if (typeof flags.meta === "string" && flags.meta !== "") {
    meta = new MetaClient(flags.meta.split(",").map((a) => a.trim()).filter((a) => a !== ""));
    const started = await startWithMeta(
      { ...opts, store_id: opts.store_id || undefined },
      meta,
      {
        store_heartbeat_ms: intFlag(flags, "store-heartbeat-ms", 10, 3_600_000),
        region_heartbeat_ms: intFlag(flags, "region-heartbeat-ms", 10, 3_600_000),
        split_size_bytes: intFlag(flags, "split-size-bytes", 1, 2 ** 50),
        split_keys: intFlag(flags, "split-keys", 1, 2 ** 50),
        log: (line) => console.error(`store ${started.node.store_id}: ${line}`),
      },
    );
    ({ node, agent } = started);
    opts.store_id = node.store_id;
  } else {
    node = await StoreNode.start(opts);
  }
  if (node.control_addr) console.log(`test control on ${node.control_addr}`);
  if (node.metrics) console.log(`metrics on http://${node.metrics.addr}/metrics`);
  if (node.frame_addr) console.log(`frames on ${node.frame_addr}`);
  console.log(`store ${opts.store_id} listening on ${node.addr}`);
  const signal = await new Promise<Deno.Signal>((resolve) => {
    const on = (sig: Deno.Signal) => () => resolve(sig);
    const handlers = [["SIGTERM", on("SIGTERM")], ["SIGINT", on("SIGINT")]] as const;
    for (const [sig, fn] of handlers) Deno.addSignalListener(sig, fn);
  });
  opts.log?.(`${signal}: stopping`);
  agent?.stop();
  meta?.close();
  await node.stop();
  return 0;
}
