import assert from "node:assert/strict";
import { splitHostPort } from "./net.ts";

Deno.test("splitHostPort: host and port, an empty host is loopback", () => {
  assert.deepEqual(splitHostPort("10.0.0.1:6379"), { hostname: "10.0.0.1", port: 6379 });
  assert.deepEqual(splitHostPort(":0"), { hostname: "127.0.0.1", port: 0 });
  assert.deepEqual(splitHostPort("[::1]:20160"), { hostname: "[::1]", port: 20160 });
});

Deno.test("splitHostPort: a missing or bad port is an error naming the address", () => {
  for (const bad of ["localhost", "h:", "h:x", "h:70000", "h:-1", "h:1.5"]) {
    assert.throws(
      () => splitHostPort(bad),
      new RegExp(`host:port, got '${bad.replace(".", "\\.")}'`),
    );
  }
});
