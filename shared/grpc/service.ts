/**
 * grpc-js service definitions built from the protobufjs reflection of the
 * contract — the job @grpc/proto-loader does, without reading files, so the
 * `.proto` text embedded at compile time is enough.
 * @module
 */
import type * as grpc from "@grpc/grpc-js";
import type protobuf from "protobufjs";
import { Buffer } from "node:buffer";
import { messageType, serviceType } from "../proto/load.ts";

/** A grpc-js method definition whose messages are plain protobufjs objects. */
export type MethodDefinition = grpc.MethodDefinition<object, object>;

/**
 * A copy of `bytes` in a Buffer that owns its whole ArrayBuffer. protobufjs
 * encodes small messages into slices of Node's shared Buffer pool; handing such
 * a slice to Deno's http2 layer crashed the process (`free(): invalid pointer`)
 * in our measurements, so serialized messages never share memory.
 */
function ownedBuffer(bytes: Uint8Array): Buffer {
  const out = Buffer.alloc(bytes.length);
  out.set(bytes);
  return out;
}

/**
 * Decoded messages become plain objects with every field present: handlers
 * spread them and pass them to workers, which would drop protobufjs's
 * prototype-held defaults (see shared/proto/load.ts).
 */
const PLAIN: protobuf.IConversionOptions = { defaults: true, arrays: true };

const cache = new Map<string, grpc.ServiceDefinition>();

function methodDefinition(service: string, method: protobuf.Method): MethodDefinition {
  const req = messageType(method.resolvedRequestType!.fullName.slice(1));
  const res = messageType(method.resolvedResponseType!.fullName.slice(1));
  return {
    path: `/${service}/${method.name}`,
    requestStream: method.requestStream === true,
    responseStream: method.responseStream === true,
    requestSerialize: (value: object) => ownedBuffer(req.encode(value).finish()),
    requestDeserialize: (bytes: Buffer) => req.toObject(req.decode(bytes), PLAIN),
    responseSerialize: (value: object) => ownedBuffer(res.encode(value).finish()),
    responseDeserialize: (bytes: Buffer) => res.toObject(res.decode(bytes), PLAIN),
    originalName: method.name,
  };
}

/**
 * The grpc-js definition of a service of the contract, e.g. `storepb.Store`.
 * Method keys keep the `.proto` spelling (`RawGet`).
 */
export function serviceDefinition(fullName: string): grpc.ServiceDefinition {
  let def = cache.get(fullName);
  if (def === undefined) {
    const service = serviceType(fullName);
    service.resolveAll();
    const methods: Record<string, MethodDefinition> = {};
    for (const method of service.methodsArray) {
      methods[method.name] = methodDefinition(fullName, method);
    }
    def = methods;
    cache.set(fullName, def);
  }
  return def;
}
