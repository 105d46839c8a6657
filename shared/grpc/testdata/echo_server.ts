/**
 * A minimal storepb.Store server for gRPC plumbing tests and the gRPC
 * microbenchmark: RawGet answers with the key as value. Prints `listening PORT`,
 * and on SIGTERM the http2 guard's counters (`guard {...}`) before it exits.
 * Usage: deno run -A echo_server.ts [max_calls_per_connection]
 */
import type { ServerDuplexStream } from "@grpc/grpc-js";
import { HTTP2_GUARD_STATS } from "../http2_guard.ts";
import { startGrpcServer } from "../server.ts";

type Batch = { requests: Array<{ raw_get?: { key: Uint8Array } }>; request_ids: number[] };

const max_calls = Number(Deno.args[0] ?? "64");
const server = await startGrpcServer({
  addr: "127.0.0.1:0",
  max_calls_per_connection: max_calls,
  services: [{
    service: "storepb.Store",
    handlers: {
      RawGet: (
        call: { request: { key: Uint8Array } },
        cb: (err: null, res: object) => void,
      ) => cb(null, { value: call.request.key, not_found: false }),
      BatchCommands: (stream: ServerDuplexStream<Batch, object>) => {
        stream.on("data", (batch: Batch) => {
          stream.write({
            request_ids: batch.request_ids,
            responses: batch.requests.map((r) => ({ raw_get: { value: r.raw_get?.key } })),
          });
        });
        stream.on("end", () => stream.end());
      },
    },
  }],
});
console.log(`listening ${server.port}`);
Deno.addSignalListener("SIGTERM", async () => {
  await server.shutdown(500);
  console.log(`guard ${JSON.stringify(HTTP2_GUARD_STATS)}`);
  Deno.exit(0);
});
