/**
 * gRPC plumbing shared by every process: service definitions from the proto
 * contract, server start/stop with the Deno workaround, clients with deadlines.
 * @module
 */
export { serviceDefinition } from "./service.ts";
export type { MethodDefinition } from "./service.ts";
export { GrpcServer, MAX_CALLS_PER_CONNECTION_FALLBACK, startGrpcServer } from "./server.ts";
export type { GrpcServerOptions, ServiceBinding } from "./server.ts";
export { ClientPool, DEADLINE_MS_DEFAULT, RpcError, ServiceClient } from "./client.ts";
export { status as GrpcStatus } from "@grpc/grpc-js";
