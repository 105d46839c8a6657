/**
 * The combined bench report: reads `bench-results/store.json` (eraft unary
 * and BatchCommands vs 3-member etcd) and `bench-results/db.json` (E-DB vs
 * redis-server with appendfsync always / no persistence), prints one table of
 * throughput, p50/p99 and ratios to the references, and writes
 * `bench-results/summary.json` and `bench-results/summary.svg` (throughput
 * and p99 per configuration, drawn here: no browser needed).
 *
 * Usage: deno run -A tasks/bench_report.ts [RESULTS_DIR]
 * @module
 */
import { join } from "node:path";

/** One measured configuration. */
export interface Row {
  suite: "store" | "db";
  /** e.g. "put c=16" or "SET c=50 P=16". */
  config: string;
  system: string;
  ops_per_s: number;
  /** Median latency; null where the tool does not report it. */
  p50_ms: number | null;
  /** Null where the tool does not report it (a db.json from before percentiles). */
  p99_ms: number | null;
}

interface StoreResult {
  system: string;
  op: string;
  inflight: number;
  ops_per_s: number;
  p50_ms?: number;
  p99_ms: number;
}

function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(Deno.readTextFileSync(path)) as T;
  } catch {
    return null;
  }
}

/** Rows from whatever result files exist in `dir`. */
export function collectRows(dir: string): Row[] {
  const rows: Row[] = [];
  const store = readJson<{ results: StoreResult[] }>(join(dir, "store.json"));
  for (const r of store?.results ?? []) {
    rows.push({
      suite: "store",
      config: `${r.op} c=${r.inflight}`,
      system: r.system,
      ops_per_s: r.ops_per_s,
      p50_ms: r.p50_ms ?? null,
      p99_ms: r.p99_ms,
    });
  }
  const db = readJson<{
    results: Record<string, Record<string, number>>;
    latency?: Record<string, Record<string, { p50_ms: number; p99_ms: number }>>;
  }>(join(dir, "db.json"));
  const num = (v: number | undefined) => typeof v === "number" && Number.isFinite(v) ? v : null;
  for (const [config, systems] of Object.entries(db?.results ?? {})) {
    for (const [system, ops] of Object.entries(systems)) {
      const l = db?.latency?.[config]?.[system];
      rows.push({
        suite: "db",
        config,
        system,
        ops_per_s: ops,
        p50_ms: num(l?.p50_ms),
        p99_ms: num(l?.p99_ms),
      });
    }
  }
  return rows;
}

const REFERENCES: Record<Row["suite"], string[]> = {
  store: ["etcd"],
  db: ["redis appendfsync always", "redis no persistence", "etcd"],
};

const fmt = (n: number | null, digits = 0) =>
  n === null || !Number.isFinite(n) ? "-" : n.toFixed(digits);

/** The table: one line per (suite, config, eraft system) with ratios to each reference. */
export function table(rows: Row[]): string {
  const lines: string[][] = [[
    "suite",
    "config",
    "system",
    "ops/s",
    "p50 ms",
    "p99 ms",
    "reference",
    "ref ops/s",
    "ref p50",
    "ref p99",
    "ops ratio",
    "p99 ratio",
  ]];
  for (const suite of ["store", "db"] as const) {
    const mine = rows.filter((r) => r.suite === suite && r.system.startsWith("eraft"));
    for (const r of mine) {
      const refs = rows.filter((x) =>
        x.suite === suite && x.config === r.config && REFERENCES[suite].includes(x.system)
      );
      if (refs.length === 0) {
        lines.push([
          suite,
          r.config,
          r.system,
          fmt(r.ops_per_s),
          fmt(r.p50_ms, 2),
          fmt(r.p99_ms, 2),
          "-",
          "-",
          "-",
          "-",
          "-",
          "-",
        ]);
      }
      for (const ref of refs) {
        lines.push([
          suite,
          r.config,
          r.system,
          fmt(r.ops_per_s),
          fmt(r.p50_ms, 2),
          fmt(r.p99_ms, 2),
          ref.system,
          fmt(ref.ops_per_s),
          fmt(ref.p50_ms, 2),
          fmt(ref.p99_ms, 2),
          `${(r.ops_per_s / ref.ops_per_s).toFixed(3)}x`,
          r.p99_ms !== null && ref.p99_ms !== null && ref.p99_ms > 0
            ? `${(r.p99_ms / ref.p99_ms).toFixed(2)}x`
            : "-",
        ]);
      }
    }
  }
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) => l.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n");
}

const COLORS = ["#1565c0", "#2e7d32", "#c62828", "#ef6c00", "#6a1b9a", "#00838f"];
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Grouped horizontal bars (log scale for throughput): one panel per suite and measure. */
export function svg(rows: Row[]): string {
  const panels: Array<{ title: string; suite: Row["suite"]; value: (r: Row) => number | null }> = [
    { title: "store: ops/s (log scale)", suite: "store", value: (r) => r.ops_per_s },
    { title: "store: p99 latency, ms (log scale)", suite: "store", value: (r) => r.p99_ms },
    { title: "db (redis-benchmark): ops/s (log scale)", suite: "db", value: (r) => r.ops_per_s },
    {
      title: "db (redis-benchmark): p99 latency, ms (log scale)",
      suite: "db",
      value: (r) => r.p99_ms,
    },
  ];
  const W = 900;
  const BAR = 12;
  const LABEL_W = 170;
  const parts: string[] = [];
  let y = 10;
  for (const p of panels) {
    const rs = rows.filter((r) => r.suite === p.suite && (p.value(r) ?? 0) > 0);
    if (rs.length === 0) continue;
    const configs = [...new Set(rs.map((r) => r.config))];
    const systems = [...new Set(rs.map((r) => r.system))];
    const vals = rs.map((r) => p.value(r)!);
    const lo = Math.log10(Math.min(...vals)) - 0.2;
    const hi = Math.log10(Math.max(...vals)) + 0.1;
    const x = (v: number) => LABEL_W + (W - LABEL_W - 120) * (Math.log10(v) - lo) / (hi - lo);
    parts.push(
      `<text x="10" y="${y + 16}" font-size="15" font-weight="bold">${esc(p.title)}</text>`,
    );
    systems.forEach((s, i) => {
      parts.push(
        `<rect x="${W - 300 + (i % 2) * 150}" y="${
          y + 4 + Math.floor(i / 2) * 14
        }" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="${
          W - 286 + (i % 2) * 150
        }" y="${y + 13 + Math.floor(i / 2) * 14}" font-size="11">${esc(s)}</text>`,
      );
    });
    y += 30 + Math.ceil(systems.length / 2) * 14;
    for (const c of configs) {
      const group = systems.map((s) => rs.find((r) => r.config === c && r.system === s) ?? null);
      const h = group.filter((g) => g !== null).length * (BAR + 2);
      parts.push(`<text x="10" y="${y + h / 2 + 4}" font-size="12">${esc(c)}</text>`);
      group.forEach((r, i) => {
        if (r === null) return;
        const v = p.value(r)!;
        parts.push(
          `<rect x="${LABEL_W}" y="${y}" width="${
            Math.max(1, x(v) - LABEL_W).toFixed(1)
          }" height="${BAR}" fill="${COLORS[i % COLORS.length]}"/><text x="${
            (x(v) + 4).toFixed(1)
          }" y="${y + BAR - 2}" font-size="10">${v >= 100 ? v.toFixed(0) : v.toFixed(1)}</text>`,
        );
        y += BAR + 2;
      });
      y += 8;
    }
    y += 20;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${
    parts.join("\n")
  }\n</svg>\n`;
}

/** One speed goal of the E-DB issue, checked against references measured in the same run. */
export interface Goal {
  goal: string;
  eraft_ops_per_s: number;
  reference: string;
  reference_ops_per_s: number;
  ratio: number;
  target: number;
  met: boolean;
}

/**
 * The E-DB goals: SET at 50 clients ≥ 1.5× a 3-member etcd's put rate, GET at
 * 50 clients ≥ 0.3× redis-server. Each compares with the reference's best
 * rate in the run (etcd's puts at any concurrency in the store suite or in
 * the db suite's SET rounds, either redis configuration), so a goal is never
 * met by picking a weak reference. Missing rows skip a goal.
 */
export function goals(rows: Row[]): Goal[] {
  const ops = (suite: Row["suite"], config: string, system: string) =>
    rows.find((r) => r.suite === suite && r.config === config && r.system === system)?.ops_per_s;
  const best = (pred: (r: Row) => boolean) => {
    const hits = rows.filter(pred).sort((a, b) => b.ops_per_s - a.ops_per_s);
    return hits.length === 0 ? null : hits[0];
  };
  const out: Goal[] = [];
  const add = (goal: string, eraft: number | undefined, ref: Row | null, target: number) => {
    if (eraft === undefined || ref === null) return;
    const ratio = eraft / ref.ops_per_s;
    out.push({
      goal,
      eraft_ops_per_s: eraft,
      reference: `${ref.system} ${ref.config}`,
      reference_ops_per_s: ref.ops_per_s,
      ratio,
      target,
      met: ratio >= target,
    });
  };
  add(
    "db SET c=50 vs 3-member etcd put",
    ops("db", "SET c=50", "eraft"),
    best((r) =>
      r.system === "etcd" &&
      (r.suite === "store" ? r.config.startsWith("put ") : r.config === "SET c=50")
    ),
    1.5,
  );
  add(
    "db GET c=50 vs redis-server GET c=50",
    ops("db", "GET c=50", "eraft"),
    best((r) => r.suite === "db" && r.config === "GET c=50" && r.system.startsWith("redis")),
    0.3,
  );
  return out;
}

/** Prints the table and writes summary.json and summary.svg; 1 when nothing was found. */
export function writeReport(dir: string): number {
  const rows = collectRows(dir);
  if (rows.length === 0) {
    console.error(`bench report: no store.json or db.json in ${dir}`);
    return 1;
  }
  console.log(`\n== bench summary (ratios: eraft / reference)\n${table(rows)}`);
  const checked = goals(rows);
  for (const file of ["store.json", "db.json"]) {
    const client = readJson<{ etcd_client?: string | null }>(join(dir, file))?.etcd_client;
    if (client) console.log(`${file}: etcd measured with ${client}`);
  }
  for (const g of checked) {
    console.log(
      `goal ${g.goal}: ${fmt(g.eraft_ops_per_s)} / ${fmt(g.reference_ops_per_s)} (${g.reference})` +
        ` = ${g.ratio.toFixed(2)}x, target ${g.target}x: ${g.met ? "met" : "NOT met"}`,
    );
  }
  Deno.writeTextFileSync(
    join(dir, "summary.json"),
    JSON.stringify({ rows, goals: checked }, null, 2) + "\n",
  );
  Deno.writeTextFileSync(join(dir, "summary.svg"), svg(rows));
  console.log(`\nwrote ${join(dir, "summary.json")} and ${join(dir, "summary.svg")}`);
  return 0;
}

if (import.meta.main) {
  Deno.exit(writeReport(Deno.args[0] ?? new URL("../bench-results/", import.meta.url).pathname));
}
