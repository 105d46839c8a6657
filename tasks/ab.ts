/**
 * `deno task ab [--base REV] [--pairs N] [-- profile options]`: is the
 * working tree faster than `REV` (default HEAD)? Runs `deno task profile` on a
 * checkout of `REV` and on the working tree in ABBA order (base, tree, tree,
 * base, ...), so neither side always runs first on a machine whose speed
 * drifts between minutes, and prints each pair's ratios (tree / base) of
 * throughput and of cluster CPU per operation, their medians, and a two-sided
 * sign test: how likely a split of the pairs at least this lopsided is when
 * the change does nothing.
 *
 * Why a tool: on the shared 2-core machine one build's profile runs differ by
 * ±25% from minute to minute, so three pairs decide nothing. In #8's notes,
 * four pairs had async follower fsyncs 9% faster (one pair +23%); five more,
 * in the other order, had them slower in every pair. On a clean tree with
 * `--base HEAD` both sides are one build: an A/A run that shows the noise.
 * @module
 */
import { parseArgs } from "node:util";

/** What one profile run reports. */
export interface ProfileRun {
  /** Operations per second over the measured window. */
  ops_per_s: number;
  /** CPU of every cluster process per operation, summed. */
  cpu_us_per_op: number;
  /** redis-benchmark's median latency. */
  p50_ms: number;
}

/** Reads a run's numbers from `deno task profile`'s output. */
export function parseProfile(text: string): ProfileRun {
  const ops = text.match(/^machine busy \d+%, (\d+) op\/s$/m);
  const p50 = text.match(/^redis-benchmark: \d+ op\/s, p50 ([\d.]+) ms/m);
  const totals = [...text.matchAll(/^\S+ +total +(\d+) µs\/op/gm)].map((m) => Number(m[1]));
  if (!ops || !p50 || totals.length === 0) {
    throw new Error(`not a profile report:\n${text.slice(-2000)}`);
  }
  return {
    ops_per_s: Number(ops[1]),
    cpu_us_per_op: totals.reduce((a, b) => a + b, 0),
    p50_ms: Number(p50[1]),
  };
}

/** Which side runs first in each pair: ABBA, so drift in time weighs on both alike. */
export function baseFirst(pair: number): boolean {
  return pair % 2 === 0;
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median of nothing");
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Two-sided sign test: the chance, with a fair coin per pair, of a split at
 * least as lopsided as `wins` against `losses` (ties are left out before).
 */
export function signTestP(wins: number, losses: number): number {
  const n = wins + losses;
  if (n === 0) return 1;
  const k = Math.min(wins, losses);
  let tail = 0;
  let choose = 1; // C(n, i)
  for (let i = 0; i <= k; i++) {
    tail += choose;
    choose = (choose * (n - i)) / (i + 1);
  }
  return Math.min(1, (2 * tail) / 2 ** n);
}

/** One line summing up tree/base ratios; `higher_is_better` says which way a win goes. */
export function summarize(name: string, ratios: readonly number[], higher_is_better: boolean) {
  const better = ratios.filter((r) => (higher_is_better ? r > 1 : r < 1)).length;
  const worse = ratios.filter((r) => (higher_is_better ? r < 1 : r > 1)).length;
  return `${name} tree/base: median ${median(ratios).toFixed(3)}; tree better in ${better} of ` +
    `${ratios.length} pairs, worse in ${worse} (sign test p = ${
      signTestP(better, worse).toFixed(3)
    })`;
}

async function git(cwd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command("git", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return text.trim();
}

async function profile(dir: string, args: string[]): Promise<ProfileRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tasks/profile.ts", ...args],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`profile in ${dir} failed:\n${text.slice(-2000)}`);
  return parseProfile(text);
}

function line(run: ProfileRun): string {
  return `${run.ops_per_s.toFixed(0).padStart(6)} op/s ${
    run.cpu_us_per_op.toFixed(0).padStart(4)
  } µs/op p50 ${run.p50_ms.toFixed(2)} ms`;
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      base: { type: "string", default: "HEAD" },
      pairs: { type: "string", default: "8" },
      help: { type: "boolean", default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    console.log("usage: deno task ab [--base REV] [--pairs 8] [-- deno task profile options]");
    return 0;
  }
  const pairs = Number(values.pairs);
  if (!Number.isInteger(pairs) || pairs < 1 || pairs > 100) {
    throw new Error("--pairs must be an integer in 1..100");
  }
  const root = await git(Deno.cwd(), ["rev-parse", "--show-toplevel"]);
  const rev = await git(root, ["rev-parse", "--verify", `${values.base}^{commit}`]);
  const dirty = (await git(root, ["status", "--porcelain", "--untracked-files=no"])) !== "";
  const head = await git(root, ["rev-parse", "HEAD"]);
  if (!dirty && rev === head) console.log("note: the tree is HEAD: an A/A run (noise only)");
  const base_dir = await Deno.makeTempDir({ prefix: "eraft-ab-base-" });
  await git(root, ["worktree", "add", "--detach", base_dir, rev]);
  try {
    const throughput: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < pairs; i++) {
      const sides: Array<["base" | "tree", string]> = [["base", base_dir], ["tree", root]];
      if (!baseFirst(i)) sides.reverse();
      const got: Partial<Record<"base" | "tree", ProfileRun>> = {};
      for (const [side, dir] of sides) got[side] = await profile(dir, positionals);
      const [base, tree] = [got.base!, got.tree!];
      throughput.push(tree.ops_per_s / base.ops_per_s);
      cpu.push(tree.cpu_us_per_op / base.cpu_us_per_op);
      console.log(
        `pair ${i + 1}/${pairs}: base ${line(base)} | tree ${line(tree)} | throughput ${
          throughput[i].toFixed(3)
        }, CPU/op ${cpu[i].toFixed(3)}`,
      );
    }
    console.log(summarize("throughput", throughput, true));
    console.log(summarize("CPU per op", cpu, false));
    return 0;
  } finally {
    await git(root, ["worktree", "remove", "--force", base_dir]).catch((e) => console.error(e));
    await Deno.remove(base_dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main());
