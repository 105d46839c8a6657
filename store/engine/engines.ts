/**
 * The engines of one region worker: a KV engine (`<dir>/kv`) and a Raft log
 * store (`<dir>/raft`). A worker loop iteration writes every region's Raft
 * ready to `raft`, its applied batches to `kv`, then calls `sync()` once: one
 * fdatasync per file covers everything of that iteration (group commit).
 * @module
 */
import { join } from "node:path";
import { KvEngine, type KvEngineOptions } from "./kv.ts";
import { type RaftLogOptions, RaftLogStore } from "./raft_log.ts";

/** Options of both engines. */
export interface WorkerEnginesOptions {
  kv?: KvEngineOptions;
  raft?: RaftLogOptions;
}

/** A worker's KV engine and Raft log store, synced together. */
export class WorkerEngines {
  private constructor(readonly kv: KvEngine, readonly raft: RaftLogStore) {}

  /** Opens (creating) both engines under `dir`. */
  static open(dir: string, opts: WorkerEnginesOptions = {}): WorkerEngines {
    const raft = RaftLogStore.open(join(dir, "raft"), opts.raft);
    try {
      return new WorkerEngines(KvEngine.open(join(dir, "kv"), opts.kv), raft);
    } catch (e) {
      raft.close();
      throw e;
    }
  }

  /**
   * Makes every write of both engines durable. The Raft log goes first: an
   * applied KV batch must never be durable while the entry it came from is not.
   */
  sync(): void {
    if (this.raft.dirty) this.raft.sync();
    if (this.kv.dirty) this.kv.sync();
  }

  /** Syncs and closes both. */
  close(): void {
    try {
      this.raft.close();
    } finally {
      this.kv.close();
    }
  }
}
