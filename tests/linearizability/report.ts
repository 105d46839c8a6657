/**
 * A readable account of a violation: the key's operations in call order with
 * their times, the longest linearizable prefix the search found, and the
 * operations it could not place — as text, and as an HTML timeline (one row
 * per client, one bar per operation).
 * @module
 */
import type { KeyResult } from "./checker.ts";
import type { Model } from "./models.ts";

const fmt = (ms: number) => (Number.isFinite(ms) ? ms.toFixed(1) : "∞");

/** Plain-text report of one key's result. */
export function textReport<S, I, O>(model: Model<S, I, O>, r: KeyResult<I, O>): string {
  const placed = new Set(r.longest_prefix);
  const lines = [
    `key ${
      JSON.stringify(r.key)
    }: ${r.verdict} (${r.ops.length} operations, ${r.steps} search steps)`,
    `longest linearizable prefix: ${r.longest_prefix.map((i) => `#${i}`).join(" ") || "(none)"}`,
    "operations (call order):",
  ];
  const order = r.ops.map((_, i) => i).sort((a, b) => r.ops[a].call_ms - r.ops[b].call_ms);
  for (const i of order) {
    const op = r.ops[i];
    const mark = placed.has(i) ? " " : "!";
    lines.push(
      `${mark} #${i} client ${op.client} [${fmt(op.call_ms)}, ${fmt(op.return_ms)}] ms  ` +
        model.describe(op.input, op.output),
    );
  }
  lines.push("(! = not in the longest linearizable prefix)");
  return lines.join("\n");
}

function escape(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}

/** A self-contained HTML timeline of one key's operations. */
export function htmlReport<S, I, O>(model: Model<S, I, O>, r: KeyResult<I, O>): string {
  const finite = r.ops.flatMap((o) => [o.call_ms, o.return_ms]).filter(Number.isFinite);
  const t0 = Math.min(...finite);
  const t1 = Math.max(...finite) + 1;
  const x = (ms: number) => (((Number.isFinite(ms) ? ms : t1) - t0) / (t1 - t0)) * 1000;
  const clients = [...new Set(r.ops.map((o) => o.client))].sort((a, b) => a - b);
  const placed = new Set(r.longest_prefix);
  const bars = r.ops.map((op, i) => {
    const y = clients.indexOf(op.client) * 30 + 10;
    const color = placed.has(i) ? "#8ecae6" : "#e76f51";
    const label = escape(`#${i} ${model.describe(op.input, op.output)}`);
    return `<rect x="${x(op.call_ms)}" y="${y}" width="${
      Math.max(2, x(op.return_ms) - x(op.call_ms))
    }" ` +
      `height="22" fill="${color}"><title>${label}</title></rect>` +
      `<text x="${x(op.call_ms) + 2}" y="${y + 15}" font-size="10">${label}</text>`;
  });
  return `<!doctype html><meta charset="utf-8"><title>eraft linearizability: ${
    escape(r.key)
  }</title>` +
    `<h1>${
      escape(r.key)
    }: ${r.verdict}</h1><p>Red operations are outside the longest linearizable prefix.</p>` +
    `<svg width="1020" height="${clients.length * 30 + 20}">${bars.join("")}</svg>` +
    `<pre>${escape(textReport(model, r))}</pre>`;
}
