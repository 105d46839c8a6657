/**
 * E-DB command metrics: calls, failures and latency per command, and the
 * sweeper's work. The same numbers feed Prometheus (`eraft_db_commands_total`,
 * `eraft_db_command_duration_seconds`, `eraft_db_sweeper_total`) and
 * `INFO commandstats` / `INFO stats`.
 * @module
 */
import {
  counter,
  HotCounter,
  type HotCounterChild,
  HotHistogram,
  type HotHistogramChild,
} from "@eraft/shared/metrics";
import { latin1 } from "./encoding/bytes.ts";

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

const commands = new HotCounter("eraft_db_commands_total", "RESP commands processed", [
  "command",
  "result",
]);
const seconds = new HotHistogram("eraft_db_command_duration_seconds", "RESP command latency", [
  "command",
]);

/** Everything one command name updates, resolved once per name. */
interface CommandMetrics {
  stat: CommandStat;
  ok: HotCounterChild;
  error: HotCounterChild;
  latency: HotHistogramChild;
}

/** By the command name as sent (not lower-cased): most clients send one spelling. */
const BY_NAME = new Map<string, CommandMetrics>();

function metricsOf(sent: string): CommandMetrics {
  let m = BY_NAME.get(sent);
  if (m !== undefined) return m;
  let cmd = sent.toLowerCase();
  if (!/^[a-z][a-z0-9_|.-]{0,31}$/.test(cmd)) cmd = "other";
  if (!COMMAND_STATS.has(cmd) && COMMAND_STATS.size >= MAX_COMMANDS) cmd = "other";
  let stat = COMMAND_STATS.get(cmd);
  if (stat === undefined) {
    stat = { calls: 0, failed: 0, usec: 0 };
    COMMAND_STATS.set(cmd, stat);
  }
  m = {
    stat,
    ok: commands.child(cmd, "ok"),
    error: commands.child(cmd, "error"),
    latency: seconds.child(cmd),
  };
  // Spellings are bounded like the labels: past the limit they are not remembered.
  if (BY_NAME.size < 4 * MAX_COMMANDS) BY_NAME.set(sent, m);
  return m;
}

/** Records one finished command (`name` as sent; lower-cased here). */
export function commandDone(name: Uint8Array | undefined, secs: number, failed: boolean): void {
  const m = metricsOf(name === undefined || name.length > 64 ? "" : latin1(name));
  m.stat.calls++;
  m.stat.usec += secs * 1e6;
  if (failed) {
    m.stat.failed++;
    m.error.inc();
  } else m.ok.inc();
  m.latency.observe(secs);
}

/** `INFO commandstats` lines, Redis's format. */
export function commandStatsLines(): string[] {
  return [...COMMAND_STATS].sort(([a], [b]) => a < b ? -1 : 1).map(([cmd, s]) =>
    `cmdstat_${cmd}:calls=${s.calls},usec=${Math.round(s.usec)},usec_per_call=${
      (s.usec / s.calls).toFixed(2)
    },rejected_calls=0,failed_calls=${s.failed}`
  );
}

const routing = new HotCounter(
  "eraft_db_routing_events_total",
  "Cluster backend routing: rpcs, retries, leader_hops, meta_lookups, transport_errors, region_error_<kind>",
  ["event"],
);

/** Counts one routing event of the cluster backend (its INFO cluster counters, process-wide). */
export function routingEvent(event: string): void {
  routing.child(event).inc();
}

/** What this process's sweeper did, by kind (sweeper.ts's TickResult counts). */
export const SWEEPER_STATS = { expired: 0, collected_generations: 0, dropped_markers: 0 };

const sweeper_work = counter(
  "eraft_db_sweeper_total",
  "Sweeper work: keys expired, dead data generations collected, stale expiry markers dropped",
  ["kind"],
);

/** Adds one sweeper tick's work. */
export function sweeperDone(work: typeof SWEEPER_STATS): void {
  for (const kind of Object.keys(SWEEPER_STATS) as Array<keyof typeof SWEEPER_STATS>) {
    if (work[kind] === 0) continue;
    SWEEPER_STATS[kind] += work[kind];
    sweeper_work.inc({ kind }, work[kind]);
  }
}
