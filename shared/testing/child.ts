/**
 * Child processes for cross-process tests: spawn a Deno script or a binary,
 * wait for a readiness line on stdout with a deadline, collect its output, and
 * always kill and reap it.
 * @module
 */
import { DENO_RUN_ARGS } from "../runtime_flags.ts";

/** A running child process with its collected output. */
export class Child {
  #stdout = "";
  #stderr = "";
  #exited = false;
  readonly status: Promise<Deno.CommandStatus>;
  readonly #pumps: Promise<void>[] = [];
  readonly #waiters: Array<() => void> = [];

  constructor(readonly name: string, readonly process: Deno.ChildProcess) {
    this.#pumps.push(this.#pump(process.stdout, (s) => (this.#stdout += s)));
    this.#pumps.push(this.#pump(process.stderr, (s) => (this.#stderr += s)));
    this.status = process.status.then((s) => {
      this.#exited = true;
      this.#notify();
      return s;
    });
  }

  async #pump(stream: ReadableStream<Uint8Array>, sink: (s: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      sink(decoder.decode(chunk, { stream: true }));
      this.#notify();
    }
  }

  #notify(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  get stdout(): string {
    return this.#stdout;
  }

  get stderr(): string {
    return this.#stderr;
  }

  get exited(): boolean {
    return this.#exited;
  }

  /**
   * Resolves with the first match of `pattern` in stdout+stderr; rejects when
   * the process exits first or `timeout_ms` passes (with its output attached).
   */
  async waitFor(pattern: RegExp, timeout_ms = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeout_ms;
    while (true) {
      const match = (this.#stdout + this.#stderr).match(pattern);
      if (match) return match;
      if (this.#exited) throw new Error(`${this.name} exited before ${pattern}:\n${this.output()}`);
      const left_ms = deadline - Date.now();
      if (left_ms <= 0) {
        throw new Error(`${this.name}: no ${pattern} in ${timeout_ms} ms:\n${this.output()}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, Math.min(left_ms, 200));
      });
      clearTimeout(timer);
    }
  }

  /** The last `max_chars` of combined output, for failure messages. */
  output(max_chars = 4000): string {
    const all = `--- stdout\n${this.#stdout}\n--- stderr\n${this.#stderr}`;
    return all.length > max_chars ? "…" + all.slice(-max_chars) : all;
  }

  /** Sends a signal if still running. */
  signal(sig: Deno.Signal): void {
    if (this.#exited) return;
    try {
      this.process.kill(sig);
    } catch {
      // Raced with exit: nothing to signal.
    }
  }

  /** Kills (SIGKILL unless told otherwise) and reaps the process and its pipes. */
  async stop(sig: Deno.Signal = "SIGKILL"): Promise<Deno.CommandStatus> {
    this.signal(sig);
    const status = await this.status;
    await Promise.all(this.#pumps);
    return status;
  }
}

/** Starts `deno run -A script ...args` as a child with piped output. */
export function spawnDeno(name: string, script: string, args: string[] = []): Child {
  return spawnCommand(name, Deno.execPath(), [...DENO_RUN_ARGS, script, ...args]);
}

/** Starts any executable as a child with piped output. */
export function spawnCommand(name: string, cmd: string, args: string[], cwd?: string): Child {
  const process = new Deno.Command(cmd, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  return new Child(name, process);
}

/** True when `cmd` is on PATH (for tests that need an external tool). */
export function hasCommand(cmd: string): boolean {
  try {
    const out = new Deno.Command("sh", { args: ["-c", `command -v ${cmd}`], stdout: "null" })
      .outputSync();
    return out.success;
  } catch {
    return false;
  }
}

/** Ports below Linux's ephemeral range (32768–60999), where outgoing connections never land. */
const TEST_PORT_MIN = 10_000;
const TEST_PORT_MAX = 32_000;

/**
 * A free TCP port on 127.0.0.1 for a child process to listen on. It is picked
 * below the ephemeral range: a port handed out by `listen(0)` and released can
 * be taken by any process's outgoing connection before the child binds it
 * (seen here as EADDRINUSE under load); these ports only race with other
 * listeners. Bounded: gives up after 200 tries.
 */
export function freeTestPort(): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = TEST_PORT_MIN + Math.floor(Math.random() * (TEST_PORT_MAX - TEST_PORT_MIN));
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // taken: try another
    }
  }
  throw new Error("no free test port found in 200 tries");
}
