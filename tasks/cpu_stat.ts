/**
 * CPU time of processes and their threads from Linux's /proc, for
 * `deno task profile`: per-thread totals grouped by thread name (a store's
 * `deno` main thread, its `worker-N` region workers, V8's GC threads), so a
 * run can say where each operation's CPU went; and per process, for the
 * benchmarks' CPU per operation of each system.
 * @module
 */

/** Clock ticks per second of /proc's utime/stime (USER_HZ; 100 on Linux). */
export const TICKS_PER_S = 100;

/** One line of /proc/<pid>[/task/<tid>]/stat, the fields we use. */
export interface StatLine {
  /** The thread or process name (`comm`), up to 15 bytes; may hold spaces and parentheses. */
  comm: string;
  user_ms: number;
  sys_ms: number;
}

/**
 * Parses a stat line. `comm` is everything between the first "(" and the
 * last ")" (a name can contain both); utime and stime are the 12th and 13th
 * fields after it (proc(5) fields 14 and 15). Throws on a malformed line.
 */
export function parseStat(text: string): StatLine {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) throw new Error(`not a /proc stat line: ${text.slice(0, 80)}`);
  const rest = text.slice(close + 2).trim().split(/\s+/);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`no utime/stime in stat line: ${text.slice(0, 80)}`);
  }
  const ms = 1000 / TICKS_PER_S;
  return { comm: text.slice(open + 1, close), user_ms: utime * ms, sys_ms: stime * ms };
}

/** CPU per thread name: several threads of one name (GC helpers) add up. */
export type ThreadCpu = Map<string, { user_ms: number; sys_ms: number }>;

/** Sums stat lines by thread name. */
export function groupByName(lines: readonly StatLine[]): ThreadCpu {
  const out: ThreadCpu = new Map();
  for (const l of lines) {
    const g = out.get(l.comm) ?? { user_ms: 0, sys_ms: 0 };
    g.user_ms += l.user_ms;
    g.sys_ms += l.sys_ms;
    out.set(l.comm, g);
  }
  return out;
}

/**
 * `after - before` per thread name. A thread that ended between the two
 * readings takes its time with it, so a group can shrink; it reads as 0.
 */
export function cpuDelta(before: ThreadCpu, after: ThreadCpu): ThreadCpu {
  const out: ThreadCpu = new Map();
  for (const [name, a] of after) {
    const b = before.get(name) ?? { user_ms: 0, sys_ms: 0 };
    out.set(name, {
      user_ms: Math.max(0, a.user_ms - b.user_ms),
      sys_ms: Math.max(0, a.sys_ms - b.sys_ms),
    });
  }
  return out;
}

/** `/proc/<pid>/task/<tid>/<file>` of every thread of process `pid` (threads that exit while read are skipped). */
function taskFiles(pid: number | "self", file: string): string[] {
  const texts: string[] = [];
  for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      texts.push(Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/${file}`));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return texts;
}

/** The threads of process `pid` now, by name (threads that exit while read are skipped). */
export function threadCpu(pid: number | "self"): ThreadCpu {
  return groupByName(taskFiles(pid, "stat").map(parseStat));
}

/**
 * CPU ms (user + system) processes `pids` have used so far, each with all its
 * threads, ended ones included (their process's stat line keeps them). A
 * process that is gone counts 0.
 */
export function processCpuMs(pids: readonly number[]): number {
  let ms = 0;
  for (const pid of pids) {
    try {
      const l = parseStat(Deno.readTextFileSync(`/proc/${pid}/stat`));
      ms += l.user_ms + l.sys_ms;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
  return ms;
}

/** Busy and total jiffies of the whole machine (the first line of /proc/stat). */
export function machineTicks(): { busy: number; total: number } {
  const fields = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** The machine's busy share of its CPUs between two `machineTicks()` readings (0 when none passed). */
export function busyBetween(
  before: { busy: number; total: number },
  after: { busy: number; total: number },
): number {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}

/**
 * Context switches (voluntary + involuntary) the live threads of process
 * `pid` have made so far: a voluntary one is a thread going to sleep to wait
 * (for a socket, a futex, a disk), so their rate counts the wake-ups a
 * request costs.
 */
export function contextSwitches(pid: number): number {
  let n = 0;
  for (const status of taskFiles(pid, "status")) {
    for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)$/gm)) {
      n += Number(m[1]);
    }
  }
  return n;
}
