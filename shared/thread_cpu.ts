/**
 * The calling thread's CPU time, read with `clock_gettime(CLOCK_THREAD_CPUTIME_ID)`
 * through FFI: per-thread, so a Web Worker can account its own CPU by phase
 * (`/proc/<pid>/task/*` gives the same totals from outside, but not per phase).
 * One call costs ~0.8 µs on the 2-core machine (a system call: the vDSO does
 * not serve thread clocks), so callers enable it only when asked.
 * @module
 */

/** CLOCK_THREAD_CPUTIME_ID on Linux. */
const CLOCK_THREAD_CPUTIME_ID = 3;

/** This thread's CPU clock; `close()` unloads the library (a resource). */
export interface ThreadCpuClock {
  /** CPU time this thread has used, in microseconds. */
  now_us(): number;
  close(): void;
}

/**
 * This thread's CPU clock, or null where it is not available (not Linux,
 * libc not loadable, FFI not permitted): callers then measure nothing rather
 * than something wrong.
 */
export function threadCpuClock(): ThreadCpuClock | null {
  if (Deno.build.os !== "linux") return null;
  let lib;
  try {
    lib = Deno.dlopen("libc.so.6", {
      clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
    });
  } catch {
    return null;
  }
  const timespec = new BigInt64Array(2);
  const bytes = new Uint8Array(timespec.buffer);
  const clock_gettime = lib.symbols.clock_gettime;
  return {
    now_us() {
      if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, bytes) !== 0) {
        throw new Error("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
      }
      return Number(timespec[0]) * 1e6 + Number(timespec[1]) / 1e3;
    },
    close: () => lib.close(),
  };
}
