/**
 * Helpers for tests that start real processes on loopback.
 * @module
 */
export { Child, freeTestPort, hasCommand, spawnCommand, spawnDeno } from "./child.ts";
export { closedLoop, ETCD_PATH, EtcdBenchClient, EtcdCluster, type LoopResult } from "./etcd.ts";
export { prng } from "./prng.ts";
