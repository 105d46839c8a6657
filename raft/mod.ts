/**
 * raft/ — a pure, deterministic Raft consensus core in the style of
 * etcd-io/raft. No I/O, no timers, no Deno or Node APIs.
 * @module
 */
export * from "./storage.ts";
