/**
 * A single-store cluster in this process with real region workers: region 1
 * bootstrapped on store 1, one voter, so it elects itself.
 * @module
 */
import { StoreNode, type StoreNodeOptions } from "../node.ts";

/** Starts store 1 in `data_dir` with `workers` real workers (1 by default) and fast ticks. */
export function startOneStore(
  data_dir: string,
  opts: Partial<StoreNodeOptions> = {},
): Promise<StoreNode> {
  return StoreNode.start({
    addr: "127.0.0.1:0",
    data_dir,
    store_id: 1,
    workers: 1,
    initial_cluster: new Map([[1, "127.0.0.1:1"]]),
    tick_ms: 20,
    ...opts,
  });
}
