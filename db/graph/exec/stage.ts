/**
 * The operator model: a plan is a pipeline of {@link Stage}s, each turning a
 * stream of rows into another. Rows stream through as async iterators; only
 * Sort, Aggregate, Distinct (its key set) and Eager materialise.
 * @module
 */
import type { ExecContext, Row } from "./context.ts";

/** One operator of a plan. */
export interface Stage {
  /** Operator name as EXPLAIN prints it ("Filter", "Node By Label Scan", ...). */
  readonly name: string;
  /** Text after " | " in EXPLAIN, e.g. "(p:Person)". */
  readonly detail?: string;
  /** Not printed by EXPLAIN (internal bookkeeping such as trimming hidden columns). */
  readonly hidden?: boolean;
  /** Sub-pipelines run per input row (OPTIONAL MATCH, MERGE), printed below the stage. */
  readonly children?: Stage[];
  /** Independent pipelines whose rows are concatenated (UNION), each printed below the stage. */
  readonly branches?: Stage[][];
  /** Transforms the input stream. */
  run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row>;
}

/** Runs `stages` in order over `input`. */
export function runPipeline(
  stages: readonly Stage[],
  input: AsyncIterable<Row>,
  ctx: ExecContext,
): AsyncIterable<Row> {
  let s = input;
  for (const st of stages) s = st.run(s, ctx);
  return s;
}

/** A stream of exactly the given rows. */
export async function* rowsOf(rows: readonly Row[]): AsyncIterable<Row> {
  for (const r of rows) yield r;
}

/** Indentation per EXPLAIN level (RedisGraph uses four spaces). */
const INDENT = "    ";

/**
 * EXPLAIN lines of a pipeline: the last stage first (the root), each earlier
 * stage one level deeper; a stage's sub-pipeline is printed right below it,
 * one level deeper than the stage.
 */
export function explainLines(stages: readonly Stage[], depth = 0): string[] {
  const out: string[] = [];
  let d = depth;
  for (let i = stages.length - 1; i >= 0; i--) {
    const st = stages[i];
    if (st.hidden) continue;
    out.push(INDENT.repeat(d) + st.name + (st.detail ? ` | ${st.detail}` : ""));
    if (st.children && st.children.length > 0) {
      out.push(...explainLines(st.children, d + 1));
    }
    for (const b of st.branches ?? []) out.push(...explainLines(b, d + 1));
    d++;
  }
  return out;
}
