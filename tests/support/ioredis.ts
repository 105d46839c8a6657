/**
 * An ioredis client for the tests that drive a real db.
 * @module
 */
import { Redis } from "ioredis";

/**
 * Runs `fn` with an ioredis client connected to 127.0.0.1:`port` (at most
 * one retry per request), and disconnects it afterwards, also on failure.
 */
export async function withIoredis<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1 });
  await r.connect();
  try {
    return await fn(r);
  } finally {
    r.disconnect();
  }
}
