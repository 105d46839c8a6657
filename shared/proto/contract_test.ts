/**
 * The seed design's RPCs, messages, field names and numbers are a contract.
 * This test parses every `message` and `rpc` block of the seed (kept verbatim
 * in proto/seed-eraft-design.md) and checks our `.proto` files contain each one
 * exactly, then round-trips every seed message through encode/decode.
 */
import assert from "node:assert/strict";
import type protobuf from "protobufjs";
import { decodeMessage, encodeMessage, protoRoot } from "./load.ts";
import { PROTO_FILES } from "./files.ts";
import { generateTypes } from "./codegen.ts";

const SEED = Deno.readTextFileSync(new URL("../../proto/seed-eraft-design.md", import.meta.url));

interface SeedField {
  repeated: boolean;
  type: string;
  name: string;
  id: number;
}

/** Every top-level `message Name { ... }` of the seed with its fields. */
function seedMessages(): Map<string, SeedField[]> {
  const out = new Map<string, SeedField[]>();
  for (const m of SEED.matchAll(/message\s+(\w+)\s*\{([^}]*)\}/g)) {
    const fields: SeedField[] = [];
    for (const f of m[2].matchAll(/^\s*(repeated\s+)?([\w.]+)\s+(\w+)\s*=\s*(\d+);/gm)) {
      fields.push({ repeated: !!f[1], type: f[2], name: f[3], id: Number(f[4]) });
    }
    out.set(m[1], fields);
  }
  return out;
}

/** Every `rpc Name(Req) returns (Res)` of the seed. */
function seedRpcs(): Array<{ name: string; req: string; res: string }> {
  return [...SEED.matchAll(/rpc\s+(\w+)\s*\(([\w.]+)\)\s*returns\s*\(([\w.]+)\)/g)]
    .map((m) => ({ name: m[1], req: m[2], res: m[3] }));
}

function allTypes(): protobuf.Type[] {
  const out: protobuf.Type[] = [];
  const walk = (ns: protobuf.NamespaceBase) => {
    for (const n of ns.nestedArray) {
      if ("fieldsArray" in n) out.push(n as protobuf.Type);
      if ("nestedArray" in n) walk(n as protobuf.NamespaceBase);
    }
  };
  walk(protoRoot);
  return out;
}

function allMethods(): protobuf.Method[] {
  const out: protobuf.Method[] = [];
  const walk = (ns: protobuf.NamespaceBase) => {
    for (const n of ns.nestedArray) {
      if ("methodsArray" in n) out.push(...(n as protobuf.Service).methodsArray);
      if ("nestedArray" in n) walk(n as protobuf.NamespaceBase);
    }
  };
  walk(protoRoot);
  return out;
}

const lastName = (name: string) => name.split(".").pop()!;

Deno.test("seed contract: the seed declares the messages and RPCs we expect to check", () => {
  const messages = seedMessages();
  const rpcs = seedRpcs().map((r) => r.name);
  for (
    const name of [
      "RawGetRequest",
      "RawPutRequest",
      "RawScanResponse",
      "ChangePeerRequest",
      "AskSplitResponse",
    ]
  ) {
    assert.ok(messages.has(name), `seed parser lost ${name}`);
  }
  assert.deepEqual(new Set(rpcs), new Set([...rpcs]));
  for (
    const rpc of ["RawGet", "RawPut", "RawDelete", "RawScan", "TransferLeader", "PeerConfChange"]
  ) {
    assert.ok(rpcs.includes(rpc), `seed parser lost rpc ${rpc}`);
  }
  for (
    const rpc of ["GetMembers", "GetAllStores", "GetStore", "PutStore", "GetRegion", "AskSplit"]
  ) {
    assert.ok(rpcs.includes(rpc), `seed parser lost rpc ${rpc}`);
  }
  assert.deepEqual(messages.get("RawPutRequest")!.map((f) => `${f.name}=${f.id}`), [
    "context=1",
    "key=2",
    "value=3",
    "cf=4",
    "id=5",
    "type=6",
  ]);
});

Deno.test("seed contract: every seed message exists with the same field names, numbers and types", () => {
  const types = allTypes();
  for (const [name, fields] of seedMessages()) {
    const candidates = types.filter((t) => t.name === name);
    assert.ok(candidates.length > 0, `message ${name} from the seed is missing`);
    const ok = candidates.some((t) =>
      fields.every((f) => {
        const ours = t.fields[f.name];
        return ours !== undefined && ours.id === f.id && ours.repeated === f.repeated &&
          lastName(ours.type) === lastName(f.type);
      })
    );
    assert.ok(ok, `message ${name} does not match the seed's fields ${JSON.stringify(fields)}`);
  }
});

Deno.test("seed contract: every seed RPC is served with the seed's request and response types", () => {
  const methods = allMethods();
  for (const rpc of seedRpcs()) {
    const m = methods.find((m) => m.name === rpc.name);
    assert.ok(m, `rpc ${rpc.name} is missing`);
    assert.equal(lastName(m.requestType), lastName(rpc.req), `${rpc.name} request type`);
    assert.equal(lastName(m.responseType), lastName(rpc.res), `${rpc.name} response type`);
  }
});

Deno.test("seed contract: ErrorType values are the seed's", () => {
  const e = protoRoot.lookupEnum("metaservicepb.ErrorType");
  assert.deepEqual({ ...e.values }, {
    OK: 0,
    UNKNOWN: 1,
    NOT_BOOTSTRAPPED: 2,
    STORE_TOMBSTONE: 3,
    ALREADY_BOOTSTRAPPED: 4,
    INCOMPATIBLE_VERSION: 5,
    REGION_NOT_FOUND: 6,
  });
});

/** A value for every field of `type`, nested messages filled one level deep. */
function sample(type: protobuf.Type, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of type.fieldsArray) {
    f.resolve();
    let v: unknown;
    if (f.resolvedType && "values" in f.resolvedType) {
      const values = Object.values((f.resolvedType as protobuf.Enum).values);
      v = values[values.length - 1];
    } else if (f.resolvedType) {
      if (depth > 1) continue;
      v = sample(f.resolvedType as protobuf.Type, depth + 1);
    } else if (f.type === "bytes") v = new Uint8Array([1, 2, 3, f.id]);
    else if (f.type === "string") v = `s${f.id}`;
    else if (f.type === "bool") v = true;
    else if (/64/.test(f.type)) v = 1_000_000_000_000 + f.id; // 64-bit path without Long
    else v = 100_000 + f.id;
    if (f.partOf && Object.keys(out).some((k) => f.partOf!.oneof.includes(k))) continue;
    out[f.name] = f.repeated ? [v, v] : v;
  }
  return out;
}

function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return [...v];
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

Deno.test("seed contract: every seed message round-trips through encode and decode", () => {
  const types = allTypes();
  for (const name of seedMessages().keys()) {
    for (const t of types.filter((t) => t.name === name)) {
      const full = t.fullName.slice(1);
      const value = sample(t);
      const decoded = decodeMessage<Record<string, unknown>>(full, encodeMessage(full, value));
      const asObject = t.toObject(t.fromObject(decoded), { defaults: false, arrays: false });
      assert.deepEqual(plain(asObject), plain(value), `${full} did not round-trip`);
    }
  }
});

Deno.test("seed contract: malformed bytes are a descriptive error, not a crash", () => {
  assert.throws(
    () => decodeMessage("kvrpcpb.RawGetRequest", new Uint8Array([0x12, 0x05, 0x01])),
    /range|index/i,
  );
});

Deno.test("generated types in proto/gen are up to date with the .proto files", async () => {
  const generated = generateTypes(protoRoot);
  assert.equal(generated.size, Object.keys(PROTO_FILES).length);
  for (const [pkg, source] of generated) {
    const fmt = new Deno.Command(Deno.execPath(), {
      args: ["fmt", "--ext", "ts", "-"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = fmt.stdin.getWriter();
    await writer.write(new TextEncoder().encode(source));
    await writer.close();
    const { stdout } = await fmt.output();
    const expected = new TextDecoder().decode(stdout);
    const actual = Deno.readTextFileSync(new URL(`../../proto/gen/${pkg}.ts`, import.meta.url));
    assert.equal(actual, expected, `proto/gen/${pkg}.ts is stale: run ./denow task gen:proto`);
  }
});
