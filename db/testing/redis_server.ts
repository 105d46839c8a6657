/**
 * Starts a real `redis-server` on a free loopback port for differential tests.
 * @module
 */
import { freeTestPort } from "@eraft/shared/testing";
import { RespClient } from "./resp_client.ts";

/** Path of redis-server, or null (tests must then be ignored with a reason). */
export function findRedisServer(): string | null {
  for (const p of ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not here */ }
  }
  return null;
}

/** A free port for a child to listen on (see `freeTestPort`). */
export function freePort(): number {
  return freeTestPort();
}

/** A running redis-server child. */
export interface RedisProcess {
  port: number;
  stop(): Promise<void>;
}

/** Spawns redis-server without persistence; resolves when it answers PING. */
export async function startRedis(bin: string): Promise<RedisProcess> {
  const port = freePort();
  const child = new Deno.Command(bin, {
    args: [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
      "--logfile",
      "",
    ],
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).spawn();
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.status;
  };
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      const c = await RespClient.connect(port);
      try {
        await c.call("PING");
        return { port, stop };
      } finally {
        c.close();
      }
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  await stop();
  throw new Error("redis-server did not start");
}
