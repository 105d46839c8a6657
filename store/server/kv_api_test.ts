import assert from "node:assert/strict";
import type * as kvrpcpb from "@eraft/proto/gen/kvrpcpb.ts";
import { decodeMessage, decodeMessageView, encodeMessage } from "@eraft/shared/proto";
import { plainContext } from "./kv_api.ts";

const CONTEXTS: kvrpcpb.Context[] = [
  { region_id: 7, region_epoch: { conf_ver: 0, version: 3 }, peer: null, term: 0 },
  {
    region_id: 2,
    region_epoch: { conf_ver: 1, version: 0 },
    peer: { id: 4, store_id: 0, addr: "", role: 1 },
    term: 9,
  },
  { region_id: 0, region_epoch: null, peer: { id: 0, store_id: 3, addr: "h:1", role: 0 }, term: 0 },
];

Deno.test("plainContext of a view decode survives structured clone as the plain decode does", () => {
  for (const c of CONTEXTS) {
    const bytes = encodeMessage("kvrpcpb.Context", c);
    const view = decodeMessageView<kvrpcpb.Context>("kvrpcpb.Context", bytes);
    // What a worker receives: defaults on the prototype would be gone.
    const posted = structuredClone(plainContext(view));
    assert.deepEqual(posted, decodeMessage<kvrpcpb.Context>("kvrpcpb.Context", bytes));
  }
  assert.equal(plainContext(null), null);
  assert.equal(plainContext(undefined), null);
});
