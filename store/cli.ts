/**
 * `eraft store`: runs one E-STORE process until SIGTERM or SIGINT.
 * Prints `store <id> listening on <addr>` once it serves (tests wait for it).
 * @module
 */
import { type CommandSpec, type Flags, intFlag, stringFlag, UsageError } from "@eraft/shared/cli";
import { parseInitialCluster, StoreNode, type StoreNodeOptions } from "./server/node.ts";

const str = (help: string, def?: string) => ({ type: "string" as const, help, default: def });

/** The `eraft store` subcommand. */
export const storeCommand: CommandSpec = {
  name: "store",
  summary: "run an E-STORE node (regions in Web Workers over the file engine)",
  flags: {
    addr: str("gRPC listen address host:port", "127.0.0.1:20160"),
    data: str("data directory", "data/store1"),
    meta: str("meta addresses host:port,... (used once E-META exists)"),
    workers: str("region worker count", String(navigator.hardwareConcurrency)),
    "store-id": str("static store id (required until stores register with meta)"),
    "initial-cluster": str("static bootstrap: id=host:port,... creates region 1 on those stores"),
    "tick-ms": str("milliseconds per Raft tick", "100"),
    "raft-log-gc-count-limit": str("compact a region's log past this many entries", "10000"),
    "test-control-port": str("testing only: fault-injection HTTP endpoint on 127.0.0.1"),
  },
  run: runStore,
};

/** Turns parsed flags into node options; a UsageError for bad values. */
export function storeOptions(flags: Flags): StoreNodeOptions {
  if (flags["store-id"] === undefined) {
    throw new UsageError("--store-id is required (registration with meta is not built yet)");
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
    addr: stringFlag(flags, "addr"),
    data_dir: stringFlag(flags, "data"),
    store_id: intFlag(flags, "store-id", 1, 2 ** 40),
    workers: intFlag(flags, "workers", 1, 256),
    initial_cluster,
    tick_ms: intFlag(flags, "tick-ms", 1, 10_000),
    raft_log_gc_count_limit: intFlag(flags, "raft-log-gc-count-limit", 1, 1e9),
    raft_log_gc_keep_entries: Math.min(1000, intFlag(flags, "raft-log-gc-count-limit", 1, 1e9)),
    log: (line) => console.error(`store ${flags["store-id"]}: ${line}`),
  };
  if (flags["test-control-port"] !== undefined) {
    opts.test_control_port = intFlag(flags, "test-control-port", 0, 65535);
  }
  return opts;
}

async function runStore(flags: Flags): Promise<number> {
  const opts = storeOptions(flags);
  const node = await StoreNode.start(opts);
  if (node.control_addr) console.log(`test control on ${node.control_addr}`);
  console.log(`store ${opts.store_id} listening on ${node.addr}`);
  const signal = await new Promise<Deno.Signal>((resolve) => {
    const on = (sig: Deno.Signal) => () => resolve(sig);
    const handlers = [["SIGTERM", on("SIGTERM")], ["SIGINT", on("SIGINT")]] as const;
    for (const [sig, fn] of handlers) Deno.addSignalListener(sig, fn);
  });
  opts.log?.(`${signal}: stopping`);
  await node.stop();
  return 0;
}
