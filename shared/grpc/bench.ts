/**
 * gRPC microbenchmark between two Deno processes: unary RawGet calls/s with 1
 * and 64 in flight, with the server's per-connection call limit on (the Deno
 * workaround) and off, plus one BatchCommands stream carrying 64-request
 * batches. Writes bench-results/grpc.json.
 * Run: deno task bench grpc
 * @module
 */
import { spawnDeno } from "../testing/child.ts";
import { ServiceClient } from "./client.ts";
import { MAX_CALLS_PER_CONNECTION_FALLBACK } from "./server.ts";

const SERVER = new URL("./testdata/echo_server.ts", import.meta.url).pathname;
const DURATION_MS = 3000;

async function unaryRate(client: ServiceClient, in_flight: number): Promise<number> {
  const key = new Uint8Array(100);
  let calls = 0;
  const end = performance.now() + DURATION_MS;
  const worker = async () => {
    while (performance.now() < end) {
      await client.unary("RawGet", { key });
      calls++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: in_flight }, worker));
  return calls / ((performance.now() - start) / 1000);
}

async function streamRate(addr: string, batch: number): Promise<number> {
  const client = new ServiceClient("storepb.Store", addr);
  const stream = client.duplex("BatchCommands");
  const requests = Array.from({ length: batch }, () => ({ raw_get: { key: new Uint8Array(100) } }));
  const ids = Array.from({ length: batch }, (_, i) => i);
  let ops = 0;
  const start = performance.now();
  const end = start + DURATION_MS;
  await new Promise<void>((resolve) => {
    stream.on("data", () => {
      ops += batch;
      if (performance.now() < end) stream.write({ requests, request_ids: ids });
      else resolve();
    });
    stream.write({ requests, request_ids: ids });
  });
  const rate = ops / ((performance.now() - start) / 1000);
  const closed = new Promise((resolve) => {
    stream.on("status", resolve);
    stream.on("error", resolve);
  });
  stream.end();
  stream.resume();
  await closed;
  client.close();
  return rate;
}

/**
 * Unary rates against a fresh server, killed before the client closes (so the
 * numbers never depend on the http2 guard, see http2_guard.ts).
 */
async function measure(max_calls: number): Promise<Record<string, number>> {
  const child = spawnDeno("echo_server", SERVER, [String(max_calls)]);
  let client: ServiceClient | undefined;
  try {
    const port = Number((await child.waitFor(/listening (\d+)/))[1]);
    client = new ServiceClient("storepb.Store", `127.0.0.1:${port}`);
    return {
      unary_1_in_flight_per_s: Math.round(await unaryRate(client, 1)),
      unary_64_in_flight_per_s: Math.round(await unaryRate(client, 64)),
    };
  } finally {
    await child.stop("SIGKILL");
    client?.close();
  }
}

if (import.meta.main) {
  const limited = await measure(MAX_CALLS_PER_CONNECTION_FALLBACK);
  const unlimited = await measure(0);
  const child = spawnDeno("echo_server", SERVER, ["0"]);
  let stream_ops_per_s = 0;
  try {
    const port = Number((await child.waitFor(/listening (\d+)/))[1]);
    stream_ops_per_s = Math.round(await streamRate(`127.0.0.1:${port}`, 64));
  } finally {
    await child.stop("SIGKILL");
  }
  const result = {
    max_calls_per_connection: MAX_CALLS_PER_CONNECTION_FALLBACK,
    with_call_limit: limited,
    without_call_limit: unlimited,
    batch_stream_64_ops_per_s: stream_ops_per_s,
  };
  console.table({
    "unary, 1 in flight": {
      "limit on": limited.unary_1_in_flight_per_s,
      "limit off": unlimited.unary_1_in_flight_per_s,
    },
    "unary, 64 in flight": {
      "limit on": limited.unary_64_in_flight_per_s,
      "limit off": unlimited.unary_64_in_flight_per_s,
    },
  });
  console.log(`BatchCommands stream, 64 requests per message: ${stream_ops_per_s} ops/s`);
  Deno.mkdirSync("bench-results", { recursive: true });
  Deno.writeTextFileSync("bench-results/grpc.json", JSON.stringify(result, null, 2) + "\n");
}
