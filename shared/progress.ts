/**
 * Progress of long bench phases on stderr (stdout keeps the results, so it
 * can be piped or parsed). On a terminal: a `cli-progress` bar with the step
 * name and the elapsed time, redrawn a few times a second. Otherwise (CI,
 * pipes, files): one plain line per step, never control codes, so the output
 * stays bounded by the number of steps.
 * @module
 */
import cliProgress from "cli-progress";
import process from "node:process";

/** Where the progress goes; tests pass their own. */
export interface ProgressOptions {
  /** Force the bar (true) or the plain lines (false); default: whether stderr is a terminal. */
  tty?: boolean;
  /** Plain-line sink (default: stderr). */
  write?: (line: string) => void;
  /** The bar's terminal stream (default: process.stderr); tests pass a fake with isTTY. */
  stream?: { isTTY?: boolean; columns?: number; write(s: string): boolean };
}

/** A counted phase: `step()` as each unit starts, `log()` for result lines, `done()` at the end. */
export class Progress {
  readonly #label: string;
  readonly #started_ms = Date.now();
  readonly #write: (line: string) => void;
  #total: number;
  #value = 0;
  #step = "";
  #bar: cliProgress.SingleBar | null = null;
  #finished = false;

  constructor(label: string, total: number, opts: ProgressOptions = {}) {
    this.#label = label;
    this.#total = Math.max(1, total);
    this.#write = opts.write ?? ((l) => void process.stderr.write(l + "\n"));
    const tty = opts.tty ?? Deno.stderr.isTerminal();
    if (tty) {
      this.#bar = new cliProgress.SingleBar({
        stream: opts.stream ?? process.stderr,
        // Elapsed time of the whole phase (the bar restarts around log lines).
        format: (
          o: unknown,
          p: { progress: number; value: number; total: number },
          payload: { step?: string },
        ) =>
          `${label} [${cliProgress.Format.BarFormat(p.progress, o)}] ${p.value}/${p.total} ${
            payload.step ?? ""
          } | ${this.#elapsed()}`,
        barsize: 24,
        fps: 4,
        // Redraw every tick so the elapsed time moves during a long step.
        forceRedraw: true,
        hideCursor: false,
        clearOnComplete: true,
        // Our own stop() runs in finally blocks; no process-wide signal hooks.
        gracefulExit: false,
      }, cliProgress.Presets.shades_classic);
    }
    this.#start();
  }

  /** Units finished: all started but the one running. */
  #finishedUnits(): number {
    return this.#finished ? this.#value : Math.max(0, this.#value - 1);
  }

  #start(): void {
    this.#bar?.start(this.#total, this.#finishedUnits(), { step: this.#step });
  }

  /** Seconds since the phase began, for the plain lines. */
  #elapsed(): string {
    const s = Math.round((Date.now() - this.#started_ms) / 1000);
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  /** Marks the start of the next unit (`value` is the units finished before it). */
  step(name: string): void {
    if (this.#finished) return;
    this.#step = name;
    // More units than announced: grow the total rather than show 3/2.
    if (this.#value + 1 > this.#total) this.setTotal(this.#value + 1);
    this.#value++;
    if (this.#bar) this.#bar.update(this.#finishedUnits(), { step: name });
    else {
      this.#write(`${this.#label} [${this.#value}/${this.#total}] ${name} (${this.#elapsed()})`);
    }
  }

  /** Changes the number of units (e.g. when a reference turns out not to be installed). */
  setTotal(total: number): void {
    this.#total = Math.max(1, total, this.#value);
    this.#bar?.setTotal(this.#total);
  }

  /** Prints a result line to stdout without tearing the bar: erase it, print, redraw. */
  log(line: string): void {
    if (this.#bar && !this.#finished) {
      this.#bar.stop();
      console.log(line);
      this.#start();
    } else console.log(line);
  }

  /** Ends the phase (idempotent): removes the bar, or prints the closing plain line. */
  done(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#bar) {
      this.#bar.update(this.#finishedUnits(), { step: "done" });
      this.#bar.stop();
    } else this.#write(`${this.#label} done in ${this.#elapsed()}`);
  }
}
