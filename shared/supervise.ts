/**
 * Supervised mode (`eraft store|meta|db --supervise`, on in `eraft dev`): a small parent process runs the real node as a child and
 * restarts it when it dies abnormally, the way production databases run under
 * systemd or a container runtime.
 *
 * Why: a Deno node:http2 bug (denoland/deno#36788, README "Deno platform
 * notes") can abort a gRPC server process inside nghttp2 — exit 134, 139 or
 * `free(): invalid pointer` — where no JavaScript can catch it. Data is safe
 * (the node recovers from disk and catches up), so the cure is a restart.
 * `shared/grpc/http2_guard.ts` now defuses that bug's known trigger; the
 * supervisor stays for whatever else kills a node.
 *
 * - The child is `Deno.execPath()` with the same arguments (plus `run -A
 *   <main module>` when not a compiled binary) and the environment marker
 *   `ERAFT_SUPERVISED_CHILD=<parent pid>`, which makes it run the node itself.
 * - SIGINT/SIGTERM to the parent are forwarded; the parent then exits with the
 *   child's code.
 * - The child is restarted when it dies by a signal or exits non-zero, except
 *   code 2 (usage error: a restart would fail the same way). Delays double
 *   from 100 ms to 5 s and go back to 100 ms after a child ran 30 s.
 * - Exit code 0 from the child ends the parent with 0.
 * - The child polls its parent every 500 ms; if the parent is gone (killed
 *   -9), it stops itself (SIGTERM to itself, so the node shuts down cleanly;
 *   a hard exit 5 s later if that hangs).
 * @module
 */
import { DENO_RUN_ARGS } from "./runtime_flags.ts";

/** The environment variable marking the supervised child; its value is the parent's pid. */
export const SUPERVISED_ENV = "ERAFT_SUPERVISED_CHILD";

/** Exit code of a usage error (never restarted). */
export const USAGE_EXIT_CODE = 2;

export interface SuperviseOptions {
  /** Name in log lines, e.g. `store`. */
  name: string;
  /** First restart delay. */
  backoff_min_ms?: number;
  /** Largest restart delay. */
  backoff_max_ms?: number;
  /** A child that ran this long resets the delay to `backoff_min_ms`. */
  healthy_after_ms?: number;
  /** Where supervisor lines go (default: stderr). */
  log?: (line: string) => void;
}

/** True in the child of a supervisor (which must run the node, not supervise again). */
export function isSupervisedChild(): boolean {
  return Deno.env.get(SUPERVISED_ENV) !== undefined;
}

/** The command line that re-runs this process: compiled binary or `deno run -A <main>`. */
export function selfCommand(): { cmd: string; args: string[] } {
  if (Deno.build.standalone) return { cmd: Deno.execPath(), args: [...Deno.args] };
  const main = Deno.mainModule.startsWith("file:")
    ? new URL(Deno.mainModule).pathname
    : Deno.mainModule;
  return { cmd: Deno.execPath(), args: [...DENO_RUN_ARGS, main, ...Deno.args] };
}

/**
 * Runs this program's command line as a supervised child until it exits 0 or
 * with a usage error, or until SIGINT/SIGTERM stops it; resolves with the exit
 * code this process should use.
 */
export async function supervise(opts: SuperviseOptions): Promise<number> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const min_ms = opts.backoff_min_ms ?? 100;
  const max_ms = opts.backoff_max_ms ?? 5000;
  const healthy_ms = opts.healthy_after_ms ?? 30_000;
  const { cmd, args } = selfCommand();
  let child: Deno.ChildProcess | null = null;
  let stopping: Deno.Signal | null = null;
  let wake: (() => void) | null = null;
  const listeners: Array<[Deno.Signal, () => void]> = [];
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    const fn = () => {
      stopping = sig;
      try {
        child?.kill(sig);
      } catch { /* exited meanwhile */ }
      wake?.();
    };
    Deno.addSignalListener(sig, fn);
    listeners.push([sig, fn]);
  }
  let delay_ms = min_ms;
  try {
    for (let run = 1;; run++) {
      const started = Date.now();
      child = new Deno.Command(cmd, {
        args,
        stdin: "null",
        stdout: "inherit",
        stderr: "inherit",
        env: { [SUPERVISED_ENV]: String(Deno.pid) },
      }).spawn();
      log(`supervisor: ${opts.name} child ${child.pid} started (run ${run})`);
      const status = await child.status;
      child = null;
      const how = status.signal !== null ? `signal ${status.signal}` : `code ${status.code}`;
      if (stopping !== null) {
        log(`supervisor: ${opts.name} child stopped (${how}) after ${stopping}`);
        return status.code;
      }
      if (status.success) return 0;
      if (status.signal === null && status.code === USAGE_EXIT_CODE) {
        log(`supervisor: ${opts.name} child exited with a usage error: not restarting`);
        return status.code;
      }
      if (Date.now() - started >= healthy_ms) delay_ms = min_ms;
      log(`supervisor: ${opts.name} child died (${how}): restarting in ${delay_ms} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, delay_ms);
      });
      clearTimeout(timer);
      wake = null;
      if (stopping !== null) return 0;
      delay_ms = Math.min(max_ms, delay_ms * 2);
    }
  } finally {
    for (const [sig, fn] of listeners) Deno.removeSignalListener(sig, fn);
  }
}

/**
 * In a supervised child: stops this process when the supervisor is gone
 * (its pid is no longer our parent, e.g. it was killed -9). Polls every
 * `interval_ms`; the timer does not keep the process alive. No-op otherwise.
 */
export function watchSupervisor(interval_ms = 500, hard_exit_ms = 5000): void {
  const value = Deno.env.get(SUPERVISED_ENV);
  if (value === undefined) return;
  const parent = Number(value);
  const timer = setInterval(() => {
    if (Deno.ppid === parent) return;
    clearInterval(timer);
    console.error(`supervisor ${parent} is gone: stopping`);
    // A clean stop through the node's own SIGTERM handler; a hard exit if it hangs.
    const hard = setTimeout(() => Deno.exit(1), hard_exit_ms);
    Deno.unrefTimer(hard);
    try {
      Deno.kill(Deno.pid, "SIGTERM");
    } catch {
      Deno.exit(1);
    }
  }, interval_ms);
  Deno.unrefTimer(timer);
}
