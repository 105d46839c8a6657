/**
 * The command table, the COMMAND command, and dispatch: lookup, arity check,
 * authentication check, then the handler — in Redis's order, with its errors.
 * @module
 */
import { latin1, str } from "../encoding/bytes.ts";
import {
  arityError,
  array,
  bulk,
  err,
  Errors,
  int,
  map,
  NULL_ARRAY,
  type Reply,
  set,
  simple,
} from "../resp/reply.ts";
import { CommandError } from "../txn.ts";
import { lower } from "./args.ts";
import { KEY_COMMANDS } from "./keys.ts";
import { SERVER_COMMANDS } from "./server.ts";
import { STRING_COMMANDS } from "./strings.ts";
import { BITMAP_COMMANDS } from "./bitmaps.ts";
import { HASH_COMMANDS } from "./hashes.ts";
import { LIST_COMMANDS } from "./lists.ts";
import { SET_COMMANDS } from "./sets.ts";
import { ZSET_COMMANDS } from "./zsets.ts";
import { GRAPH_COMMANDS } from "./graph.ts";
import { type Call, type CommandSpec, spec } from "./types.ts";
import { multiCommands, queueCommand, queuesInMulti, refuseInMulti } from "../multi.ts";

/** Every command, by lowercase name. */
export const COMMANDS: Map<string, CommandSpec> = new Map();

function commandEntry(s: CommandSpec): Reply {
  return array([
    bulk(s.name),
    int(s.arity),
    set(s.flags.map(simple)),
    int(s.first_key),
    int(s.last_key),
    int(s.step),
    set([simple(`@${s.group}`)]),
    set([]),
    array([]),
    array([]),
  ]);
}

function commandDocs(s: CommandSpec): Reply {
  return map([
    [bulk("summary"), bulk(s.summary)],
    [bulk("since"), bulk("1.0.0")],
    [bulk("group"), bulk(s.group)],
  ]);
}

function command(c: Call): Reply {
  if (c.args.length === 1) return array([...COMMANDS.values()].map(commandEntry));
  const sub = lower(c.args[1]);
  const named = c.args.slice(2).map(lower);
  switch (sub) {
    case "count":
      return c.args.length === 2 ? int(COMMANDS.size) : arityError("command|count");
    case "info": {
      const list = named.length ? named : [...COMMANDS.keys()];
      return array(
        list.map((n) => (COMMANDS.has(n) ? commandEntry(COMMANDS.get(n)!) : NULL_ARRAY)),
      );
    }
    case "docs": {
      const list = named.length ? named.filter((n) => COMMANDS.has(n)) : [...COMMANDS.keys()];
      return map(list.map((n) => [bulk(n), commandDocs(COMMANDS.get(n)!)]));
    }
    case "list":
      return array([...COMMANDS.keys()].map((n) => bulk(n)));
    default:
      return err(`ERR unknown subcommand '${str(c.args[1])}'. Try COMMAND HELP.`);
  }
}

for (
  const s of [
    ...SERVER_COMMANDS,
    ...STRING_COMMANDS,
    ...BITMAP_COMMANDS,
    ...KEY_COMMANDS,
    ...HASH_COMMANDS,
    ...LIST_COMMANDS,
    ...SET_COMMANDS,
    ...ZSET_COMMANDS,
    ...GRAPH_COMMANDS,
    ...multiCommands({ dispatch: (c) => dispatch(c), requestKeys: (args) => requestKeys(args) }),
    spec("command", -1, "loading stale", [0, 0, 0], "server", "Command introspection", command),
  ]
) {
  if (COMMANDS.has(s.name)) throw new Error(`command ${s.name} defined twice`);
  if (s.arity === 0) throw new Error(`command ${s.name} has arity 0`);
  COMMANDS.set(s.name, s);
}

function unknownCommand(args: Uint8Array[]): Reply {
  let rest = "";
  for (let i = 1; i < args.length && rest.length < 128; i++) {
    rest += `'${str(args[i]).slice(0, 128 - rest.length)}' `;
  }
  return err(
    `ERR unknown command '${str(args[0]).slice(0, 128)}', with args beginning with: ${rest}`,
  );
}

/**
 * The user keys a request names, by the command table's key positions (over-
 * approximated for commands like ZUNIONSTORE), or null for a request without
 * keys or with a wrong argument count. The server runs pipelined requests
 * with disjoint keys concurrently and everything else alone, in order.
 */
export function requestKeys(args: Uint8Array[]): string[] | null {
  const cmd = COMMANDS.get(lower(args[0]));
  if (!cmd || cmd.first_key <= 0 || cmd.subcommands) return null;
  const n = args.length;
  if ((cmd.arity > 0 && n !== cmd.arity) || n < -cmd.arity) return null;
  const last = cmd.last_key < 0 ? n + cmd.last_key : Math.min(cmd.last_key, n - 1);
  const step = Math.max(1, cmd.step);
  const keys: string[] = [];
  for (let i = cmd.first_key; i <= last; i += step) keys.push(latin1(args[i]));
  return keys.length > 0 ? keys : null;
}

/** Why a request cannot run (unknown command, wrong argument count, no AUTH), or null. */
function checkCommand(c: Call, cmd: CommandSpec | undefined): Reply | null {
  if (!cmd) return unknownCommand(c.args);
  const n = c.args.length;
  if ((cmd.arity > 0 && n !== cmd.arity) || n < -cmd.arity) return arityError(cmd.name);
  if (c.server.requirepass !== null && !c.conn.authed && !cmd.flags.includes("no-auth")) {
    return err(Errors.noAuth);
  }
  return null;
}

/** Runs one request. Never throws for bad input; handler bugs become an error reply. */
export async function dispatch(c: Call): Promise<Reply> {
  const name = lower(c.args[0]);
  const cmd = COMMANDS.get(name);
  const refusal = checkCommand(c, cmd);
  if (refusal !== null) {
    refuseInMulti(c.conn); // a refused command aborts the transaction it was sent in
    return refusal;
  }
  if (queuesInMulti(c.conn, name)) return queueCommand(c, name);
  c.conn.last_command = cmd!.name;
  try {
    return await cmd!.handler(c);
  } catch (e) {
    if (e instanceof CommandError) return e.reply;
    throw e;
  }
}
