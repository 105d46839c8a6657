/**
 * E-DB command metrics: calls, failures and latency per command. The same
 * numbers feed Prometheus (`eraft_db_commands_total`,
 * `eraft_db_command_duration_seconds`) and `INFO commandstats` / `INFO stats`.
 * @module
 */
import { counter, histogram } from "@eraft/shared/metrics";

/** One command's totals. */
export interface CommandStat {
  calls: number;
  failed: number;
  usec: number;
}

/** Command name → totals, for INFO (this process). */
export const COMMAND_STATS: Map<string, CommandStat> = new Map();
/** Distinct command labels kept before the rest are counted as "other". */
const MAX_COMMANDS = 400;

const commands = counter("eraft_db_commands_total", "RESP commands processed", [
  "command",
  "result",
]);
const seconds = histogram("eraft_db_command_duration_seconds", "RESP command latency", [
  "command",
]);

/** Records one finished command (`name` as sent; lower-cased here). */
export function commandDone(name: Uint8Array | undefined, secs: number, failed: boolean): void {
  let cmd = name === undefined ? "" : new TextDecoder().decode(name).toLowerCase();
  if (!/^[a-z][a-z0-9_|.-]{0,31}$/.test(cmd)) cmd = "other";
  let st = COMMAND_STATS.get(cmd);
  if (st === undefined) {
    if (COMMAND_STATS.size >= MAX_COMMANDS) cmd = "other";
    st = COMMAND_STATS.get(cmd) ?? { calls: 0, failed: 0, usec: 0 };
    COMMAND_STATS.set(cmd, st);
  }
  st.calls++;
  st.usec += secs * 1e6;
  if (failed) st.failed++;
  commands.inc({ command: cmd, result: failed ? "error" : "ok" });
  seconds.observe({ command: cmd }, secs);
}

/** `INFO commandstats` lines, Redis's format. */
export function commandStatsLines(): string[] {
  return [...COMMAND_STATS].sort(([a], [b]) => a < b ? -1 : 1).map(([cmd, s]) =>
    `cmdstat_${cmd}:calls=${s.calls},usec=${Math.round(s.usec)},usec_per_call=${
      (s.usec / s.calls).toFixed(2)
    },rejected_calls=0,failed_calls=${s.failed}`
  );
}

const routing = counter(
  "eraft_db_routing_events_total",
  "Cluster backend routing: rpcs, retries, leader_hops, meta_lookups, transport_errors, region_error_<kind>",
  ["event"],
);

/** Counts one routing event of the cluster backend (its INFO cluster counters, process-wide). */
export function routingEvent(event: string): void {
  routing.inc({ event });
}
