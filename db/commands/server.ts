/**
 * Connection and server commands: PING ECHO SELECT AUTH HELLO QUIT CLIENT
 * INFO CONFIG DBSIZE FLUSHDB FLUSHALL TIME (COMMAND lives in table.ts).
 * @module
 */
import { CF_DEFAULT, CrossRegionError, MutationOp } from "../backend.ts";
import { str } from "../encoding/bytes.ts";
import { metaKey, USER_SPACE_END, USER_SPACE_START } from "../encoding/keys.ts";
import { isExpired } from "../encoding/metadata.ts";
import { walkKeys } from "../keyspace.ts";
import {
  arityError,
  array,
  bulk,
  bulkOrNull,
  err,
  Errors,
  int,
  map,
  OK,
  type Reply,
  simple,
  verbatim,
} from "../resp/reply.ts";
import { fail, lower } from "./args.ts";
import { globMatch } from "./glob.ts";
import { type Call, type CommandSpec, type ConnState, spec } from "./types.ts";
import { parseI64 } from "../resp/int.ts";
import { commandStatsLines, SWEEPER_STATS } from "../metrics.ts";

/** The Redis version we report (ioredis and node-redis gate features on it). */
export const REDIS_VERSION = "7.0.15";

function checkPassword(c: Call, user: string, pass: string): Reply | null {
  if (c.server.requirepass === null) {
    return err(
      "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
    );
  }
  if (user !== "default" || pass !== c.server.requirepass) {
    return err("WRONGPASS invalid username-password pair or user is disabled.");
  }
  c.conn.authed = true;
  return null;
}

function auth(c: Call): Reply {
  if (c.args.length > 3) return err(Errors.syntax);
  const user = c.args.length === 3 ? str(c.args[1]) : "default";
  const pass = str(c.args[c.args.length - 1]);
  return checkPassword(c, user, pass) ?? OK;
}

function helloReply(c: Call): Reply {
  return map([
    [bulk("server"), bulk("redis")],
    [bulk("version"), bulk(REDIS_VERSION)],
    [bulk("proto"), int(c.conn.resp)],
    [bulk("id"), int(c.conn.id)],
    [bulk("mode"), bulk("standalone")],
    [bulk("role"), bulk("master")],
    [bulk("modules"), array([])],
  ]);
}

function hello(c: Call): Reply {
  let ver: number = c.conn.resp;
  let j = 1;
  if (c.args.length > 1) {
    const v = parseI64(c.args[1]);
    if (v === null) return err("ERR Protocol version is not an integer or out of range");
    if (v !== 2n && v !== 3n) return err("NOPROTO unsupported protocol version");
    ver = Number(v);
    j = 2;
  }
  let name: string | null = null;
  for (; j < c.args.length; j++) {
    const a = lower(c.args[j]);
    const left = c.args.length - j - 1;
    if (a === "auth" && left >= 2) {
      const e = checkPassword(c, str(c.args[j + 1]), str(c.args[j + 2]));
      if (e) return e;
      j += 2;
    } else if (a === "setname" && left >= 1) {
      name = str(c.args[++j]);
      if (!validName(name)) {
        return err("ERR Client names cannot contain spaces, newlines or special characters.");
      }
    } else return err(`ERR Syntax error in HELLO option '${str(c.args[j])}'`);
  }
  if (c.server.requirepass !== null && !c.conn.authed) {
    return err(
      "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
    );
  }
  if (name !== null) c.conn.name = name;
  c.conn.resp = ver as 2 | 3;
  return helloReply(c);
}

function validName(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch < 33 || ch > 126) return false;
  }
  return true;
}

function clientInfoLine(c: Call, x: ConnState): string {
  const age_s = Math.floor((Date.now() - x.created_ms) / 1000);
  return `id=${x.id} addr=${x.addr} laddr=127.0.0.1:${c.server.port} fd=0 name=${
    x.name ?? ""
  } age=${age_s} idle=0 flags=N db=${x.db_index} sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=${x.last_command} user=default redir=-1 resp=${x.resp}`;
}

function client(c: Call): Reply {
  const sub = lower(c.args[1]);
  const n = c.args.length;
  switch (sub) {
    case "setname":
      if (n !== 3) return arityError("client|setname");
      if (!validName(str(c.args[2]))) {
        return err("ERR Client names cannot contain spaces, newlines or special characters.");
      }
      c.conn.name = c.args[2].length === 0 ? null : str(c.args[2]);
      return OK;
    case "getname":
      return n === 2
        ? bulkOrNull(c.conn.name === null ? null : new TextEncoder().encode(c.conn.name))
        : arityError("client|getname");
    case "id":
      return n === 2 ? int(c.conn.id) : arityError("client|id");
    case "info":
      return verbatim(clientInfoLine(c, c.conn) + "\n");
    case "list":
      return verbatim(
        [...c.server.clients.values()].map((x) => clientInfoLine(c, x) + "\n").join(""),
      );
    case "setinfo":
      return OK;
    default:
      return err(`ERR unknown subcommand '${str(c.args[1])}'. Try CLIENT HELP.`);
  }
}

async function dbsize(c: Call): Promise<Reply> {
  const now = c.db.now_ms();
  let n = 0;
  let pos: Uint8Array | null = new Uint8Array(0);
  while (pos) {
    const r: Awaited<ReturnType<typeof walkKeys>> = await walkKeys(c.db.backend, pos, 1024);
    n += r.keys.filter((k) => !isExpired(k.meta, now)).length;
    pos = r.next;
  }
  return int(n);
}

/** Deletes every user key: one range delete, or key by key when regions are split. */
export async function flushAll(c: Call): Promise<Reply> {
  if (c.args.length > 2) return err(Errors.syntax);
  if (c.args.length === 2 && !["sync", "async"].includes(lower(c.args[1]))) {
    return err(Errors.syntax);
  }
  const none = new Uint8Array(0);
  try {
    await c.db.backend.batch([{
      op: MutationOp.DeleteRange,
      cf: CF_DEFAULT,
      key: USER_SPACE_START,
      value: none,
      type: 0,
      end_key: USER_SPACE_END,
    }], []);
    return OK;
  } catch (e) {
    if (!(e instanceof CrossRegionError)) throw e;
  }
  let pos: Uint8Array | null = none;
  while (pos) {
    const r: Awaited<ReturnType<typeof walkKeys>> = await walkKeys(c.db.backend, pos, 256);
    for (const k of r.keys) {
      await c.db.backend.batch([{
        op: MutationOp.Delete,
        cf: CF_DEFAULT,
        key: metaKey(k.key),
        value: none,
        type: 0,
        end_key: none,
      }], []);
    }
    pos = r.next;
  }
  return OK;
}

/** Live keys, keys with a TTL, and their mean remaining TTL in ms, over the whole keyspace. */
async function keyspaceCounts(
  c: Call,
): Promise<{ keys: number; expires: number; avg_ttl_ms: number }> {
  const now = c.db.now_ms();
  let keys = 0;
  let expires = 0;
  let ttl_sum = 0;
  let pos: Uint8Array | null = new Uint8Array(0);
  while (pos) {
    const r: Awaited<ReturnType<typeof walkKeys>> = await walkKeys(c.db.backend, pos, 1024);
    for (const k of r.keys) {
      if (isExpired(k.meta, now)) continue;
      keys++;
      if (k.meta.expire_at_ms !== 0) {
        expires++;
        ttl_sum += k.meta.expire_at_ms - now;
      }
    }
    pos = r.next;
  }
  return { keys, expires, avg_ttl_ms: expires === 0 ? 0 : Math.round(ttl_sum / expires) };
}

/**
 * `# Cluster`: Redis's `cluster_enabled:0` (eraft shards by region, not by
 * Redis Cluster slots, so clients must not switch to cluster mode), then the
 * backend's own view (ClusterBackend: meta addresses, regions cached, stores
 * known, rpcs/retries/leader hops of its routing; MemoryBackend: its regions).
 */
function clusterLines(c: Call): string[] {
  const d = c.db.backend.describe?.();
  const lines = ["cluster_enabled:0", `eraft_backend:${d?.kind ?? "unknown"}`];
  for (const [k, v] of d?.fields ?? []) lines.push(`${k}:${v}`);
  return lines;
}

async function info(c: Call): Promise<Reply> {
  const uptime_s = Math.floor((Date.now() - c.server.started_ms) / 1000);
  const sections: Record<string, string[]> = {
    server: [
      `redis_version:${REDIS_VERSION}`,
      "redis_mode:standalone",
      "eraft_component:db",
      `process_id:${Deno.pid}`,
      `tcp_port:${c.server.port}`,
      `uptime_in_seconds:${uptime_s}`,
    ],
    clients: [`connected_clients:${c.server.clients.size}`, "blocked_clients:0"],
    persistence: [
      "loading:0",
      "async_loading:0",
      "rdb_bgsave_in_progress:0",
      "aof_rewrite_in_progress:0",
    ],
    stats: [
      `total_commands_processed:${c.server.commands_processed}`,
      `rejected_connections:${c.server.rejected_connections}`,
      // Keys this process's sweeper deleted; an expired key read is only hidden, not deleted.
      `expired_keys:${SWEEPER_STATS.expired}`,
    ],
    replication: ["role:master", "connected_slaves:0"],
    commandstats: commandStatsLines(),
    cluster: clusterLines(c),
    keyspace: [],
  };
  const wanted = c.args.slice(1).map(lower);
  const all = wanted.length === 0 ||
    wanted.some((w) => w === "all" || w === "everything" || w === "default");
  const everything = wanted.some((w) => w === "all" || w === "everything");
  // Counting keys walks every key's metadata across every region: O(keys)
  // RPCs on a cluster. So `# Keyspace` is filled only when asked for by name
  // (`INFO keyspace`) or with `INFO all` / `INFO everything`; plain `INFO`
  // (ioredis sends it on every connect) and `INFO default` keep the header
  // with no lines. Like Redis, db0 is listed only when it holds keys.
  if (everything || wanted.includes("keyspace")) {
    const k = await keyspaceCounts(c);
    if (k.keys > 0) {
      sections.keyspace.push(`db0:keys=${k.keys},expires=${k.expires},avg_ttl=${k.avg_ttl_ms}`);
    }
  }
  const parts: string[] = [];
  for (const [name, lines] of Object.entries(sections)) {
    if (!all && !wanted.includes(name)) continue;
    if (name === "commandstats" && !everything && !wanted.includes(name)) continue;
    parts.push(
      `# ${name[0].toUpperCase()}${name.slice(1)}\r\n${lines.map((l) => l + "\r\n").join("")}`,
    );
  }
  return verbatim(parts.join("\r\n"));
}

function config(c: Call): Reply {
  const sub = lower(c.args[1]);
  if (sub === "get") {
    if (c.args.length < 3) return arityError("config|get");
    const out: Array<[Reply, Reply]> = [];
    for (const [k, v] of c.server.config) {
      if (
        c.args.slice(2).some((p) =>
          globMatch(new TextEncoder().encode(lower(p)), new TextEncoder().encode(k))
        )
      ) {
        out.push([bulk(k), bulk(v)]);
      }
    }
    return map(out);
  }
  if (sub === "set") {
    if (c.args.length < 4 || c.args.length % 2 !== 0) return arityError("config|set");
    for (let j = 2; j < c.args.length; j += 2) {
      const k = lower(c.args[j]);
      if (!c.server.config.has(k)) {
        fail(`ERR Unknown option or number of arguments for CONFIG SET - '${str(c.args[j])}'`);
      }
    }
    for (let j = 2; j < c.args.length; j += 2) {
      c.server.config.set(lower(c.args[j]), str(c.args[j + 1]));
    }
    return OK;
  }
  if (sub === "resetstat") return OK;
  return err(`ERR unknown subcommand '${str(c.args[1])}'. Try CONFIG HELP.`);
}

/** Connection/server command table rows. */
export const SERVER_COMMANDS: CommandSpec[] = [
  spec("ping", -1, "fast", [0, 0, 0], "connection", "Ping the server", (c) => {
    if (c.args.length > 2) return arityError("ping");
    return c.args.length === 2 ? bulk(c.args[1]) : simple("PONG");
  }),
  spec("echo", 2, "fast", [0, 0, 0], "connection", "Echo the argument", (c) => bulk(c.args[1])),
  spec(
    "select",
    2,
    "loading stale fast",
    [0, 0, 0],
    "connection",
    "Select a database (only 0)",
    (c) => {
      const v = parseI64(c.args[1]);
      if (v === null) return err(Errors.notInteger);
      if (v !== 0n) return err("ERR DB index is out of range");
      return OK;
    },
  ),
  spec(
    "auth",
    -2,
    "noscript loading stale fast no-auth",
    [0, 0, 0],
    "connection",
    "Authenticate",
    auth,
  ),
  spec(
    "hello",
    -1,
    "noscript loading stale fast no-auth",
    [0, 0, 0],
    "connection",
    "Handshake",
    hello,
  ),
  spec(
    "quit",
    -1,
    "noscript loading stale fast no-auth",
    [0, 0, 0],
    "connection",
    "Close the connection",
    (c) => {
      c.conn.close_after_reply = true;
      return OK;
    },
  ),
  spec(
    "client",
    -2,
    "noscript loading stale",
    [0, 0, 0],
    "connection",
    "Client connection commands",
    client,
  ),
  spec("info", -1, "loading stale", [0, 0, 0], "server", "Server information", info),
  spec("config", -2, "admin noscript loading stale", [0, 0, 0], "server", "CONFIG GET/SET", config),
  spec("dbsize", 1, "readonly fast", [0, 0, 0], "server", "Number of keys", dbsize),
  spec("flushdb", -1, "write", [0, 0, 0], "server", "Delete every key", flushAll),
  spec("flushall", -1, "write", [0, 0, 0], "server", "Delete every key", flushAll),
  spec("time", 1, "loading stale fast", [0, 0, 0], "server", "Server time", () => {
    const now_us = BigInt(Date.now()) * 1000n + BigInt(Math.floor((performance.now() % 1) * 1000));
    return array([bulk(String(now_us / 1000000n)), bulk(String(now_us % 1000000n))]);
  }),
];
