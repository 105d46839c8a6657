/**
 * Forwarding a call from a meta follower to the leader: one hop, marked with
 * metadata so the leader (or a node that lost leadership meanwhile) never
 * forwards it again.
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import { serviceDefinition } from "@eraft/shared/grpc";
import type { Forwarder } from "./service.ts";

/** Metadata key set on forwarded calls. */
export const FORWARDED_HEADER = "eraft-meta-forwarded";
const FORWARD_DEADLINE_MS = 4000;

type GenericClient = grpc.Client & Record<string, unknown>;

/** A forwarder with one channel per leader address; `close()` closes them. */
export function makeForwarder(): { forward: Forwarder; close: () => void } {
  const clients = new Map<string, GenericClient>();
  const Ctor = grpc.makeGenericClientConstructor(
    serviceDefinition("metaservicepb.Meta"),
    "metaservicepb.Meta",
  );
  const forward: Forwarder = (addr, method, req) => {
    let client = clients.get(addr);
    if (client === undefined) {
      client = new Ctor(addr, grpc.credentials.createInsecure()) as unknown as GenericClient;
      clients.set(addr, client);
    }
    const fn = client[method] as unknown as (
      req: object,
      md: grpc.Metadata,
      opts: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res: object) => void,
    ) => void;
    const md = new grpc.Metadata();
    md.set(FORWARDED_HEADER, "1");
    return new Promise((resolve, reject) => {
      fn.call(client, req, md, { deadline: Date.now() + FORWARD_DEADLINE_MS }, (err, res) => {
        if (err) reject(new Error(`forward ${method} to ${addr}: ${err.details}`));
        else resolve(res);
      });
    });
  };
  return {
    forward,
    close: () => {
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  };
}
