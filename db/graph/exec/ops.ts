/**
 * Row operators that do not touch the graph: Filter, Project, Distinct, Sort,
 * Skip, Limit, Unwind, Optional, Eager, Trim.
 * @module
 */
import type { Expr } from "../cypher/ast.ts";
import { CypherError, order, type Value, valueKey } from "../values.ts";
import type { ExecContext, Row } from "./context.ts";
import { evaluate, truthy, typeMismatch } from "./eval.ts";
import { rowsOf, runPipeline, type Stage } from "./stage.ts";

/** Keeps rows for which `predicate` is true. */
export class FilterStage implements Stage {
  readonly name = "Filter";
  constructor(readonly predicate: Expr) {}
  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    for await (const row of input) {
      ctx.tick();
      if (await truthy(this.predicate, row, ctx)) yield row;
    }
  }
}

/** One computed column. */
export interface Column {
  name: string;
  expr: Expr;
}

/**
 * Projects `columns` (evaluated against the input row); `sortKeys` are
 * evaluated against the input row overlaid with the new columns and stored
 * under hidden names for a later Sort.
 */
export class ProjectStage implements Stage {
  readonly name = "Project";
  constructor(readonly columns: Column[], readonly sortKeys: Column[]) {}
  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    for await (const row of input) {
      ctx.tick();
      const out = new Map<string, Value>();
      for (const c of this.columns) out.set(c.name, await evaluate(c.expr, row, ctx));
      if (this.sortKeys.length > 0) {
        const both = new Map([...row, ...out]);
        for (const k of this.sortKeys) out.set(k.name, await evaluate(k.expr, both, ctx));
      }
      yield out;
    }
  }
}

/** Drops rows whose `columns` equal (equivalence) those of an earlier row. */
export class DistinctStage implements Stage {
  readonly name = "Distinct";
  constructor(readonly columns: string[]) {}
  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    const seen = new Set<string>();
    for await (const row of input) {
      ctx.tick();
      const key = this.columns.map((c) => valueKey(row.get(c) ?? null)).join("\u0001");
      if (seen.has(key)) continue;
      seen.add(key);
      yield row;
    }
  }
}

/** One sort key: a column name and its direction. */
export interface SortKey {
  column: string;
  descending: boolean;
}

/**
 * Sorts the rows (stable; openCypher orderability, nulls last ascending).
 * With `keep` (SKIP + LIMIT of the same projection) only that many rows are
 * held: a bounded top-k instead of the whole input.
 */
export class SortStage implements Stage {
  readonly name = "Sort";
  constructor(readonly keys: SortKey[], readonly keep: Expr[] | null = null) {}

  private compare(a: Row, b: Row): number {
    for (const k of this.keys) {
      const c = order(a.get(k.column) ?? null, b.get(k.column) ?? null);
      if (c !== 0) return k.descending ? -c : c;
    }
    return 0;
  }

  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    let cap = Infinity;
    if (this.keep) {
      cap = 0;
      for (const e of this.keep) cap += await countArg(e, "Limit", ctx);
    }
    const rows: Row[] = [];
    for await (const row of input) {
      ctx.tick();
      if (cap === Infinity) {
        rows.push(row);
        continue;
      }
      if (rows.length >= cap && (cap === 0 || this.compare(row, rows[rows.length - 1]) >= 0)) {
        continue;
      }
      // Insert after every row that sorts before or equal to it (stability).
      let lo = 0, hi = rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.compare(rows[mid], row) <= 0) lo = mid + 1;
        else hi = mid;
      }
      rows.splice(lo, 0, row);
      if (rows.length > cap) rows.pop();
    }
    if (cap === Infinity) rows.sort((a, b) => this.compare(a, b));
    yield* rowsOf(rows);
  }
}

/** Evaluates a SKIP/LIMIT count: a non-negative integer expression without variables. */
export async function countArg(e: Expr, what: string, ctx: ExecContext): Promise<number> {
  const v = await evaluate(e, new Map(), ctx);
  if (typeof v !== "bigint" || v < 0n) {
    throw new CypherError(`${what} specified value of invalid type, must be a positive integer`);
  }
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
}

/** Skips the first rows. */
export class SkipStage implements Stage {
  readonly name = "Skip";
  constructor(readonly count: Expr) {}
  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    const n = await countArg(this.count, "Skip", ctx);
    let i = 0;
    for await (const row of input) {
      ctx.tick();
      if (i++ >= n) yield row;
    }
  }
}

/** Passes the first rows and stops pulling input after them. */
export class LimitStage implements Stage {
  readonly name = "Limit";
  constructor(readonly count: Expr) {}
  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    const n = await countArg(this.count, "Limit", ctx);
    if (n === 0) return;
    let i = 0;
    for await (const row of input) {
      yield row;
      if (++i >= n) return;
    }
  }
}

/** Keeps only `columns` (drops hidden sort keys and out-of-scope variables). */
export class TrimStage implements Stage {
  readonly name = "Trim";
  readonly hidden = true;
  constructor(readonly columns: string[]) {}
  async *run(input: AsyncIterable<Row>): AsyncIterable<Row> {
    for await (const row of input) {
      yield new Map(this.columns.map((c) => [c, row.get(c) ?? null]));
    }
  }
}

/** One row per element of a list (null and [] give none; a non-list gives itself). */
export class UnwindStage implements Stage {
  readonly name = "Unwind";
  constructor(readonly expr: Expr, readonly variable: string) {}
  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    for await (const row of input) {
      const v = await evaluate(this.expr, row, ctx);
      const items = v === null ? [] : Array.isArray(v) ? v : [v];
      for (const x of items) {
        ctx.tick();
        yield new Map(row).set(this.variable, x);
      }
    }
  }
}

/**
 * OPTIONAL MATCH: runs the sub-pipeline per input row; when it yields
 * nothing, passes the row on with `introduced` variables set to null.
 */
export class OptionalStage implements Stage {
  readonly name = "Optional";
  constructor(readonly children: Stage[], readonly introduced: string[]) {}
  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    for await (const row of input) {
      let any = false;
      for await (const out of runPipeline(this.children, rowsOf([row]), ctx)) {
        any = true;
        yield out;
      }
      if (!any) {
        const out = new Map(row);
        for (const v of this.introduced) out.set(v, null);
        yield out;
      }
    }
  }
}

/**
 * Materialises its input before passing it on, so that writes downstream
 * cannot feed back into reads upstream (e.g. MATCH (n) CREATE (m) must not
 * see the created nodes).
 */
export class EagerStage implements Stage {
  readonly name = "Eager";
  readonly hidden = true;
  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    const rows: Row[] = [];
    for await (const row of input) {
      ctx.tick();
      rows.push(row);
    }
    yield* rowsOf(rows);
  }
}

/**
 * UNION / UNION ALL: runs each branch on the input row and passes on their
 * rows in turn; with `distinct`, drops rows equal to an earlier one.
 */
export class UnionStage implements Stage {
  readonly name = "Join";
  constructor(
    readonly branches: Stage[][],
    readonly columns: string[],
    readonly distinct: boolean,
  ) {}
  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    const seen = new Set<string>();
    for await (const row of input) {
      for (const b of this.branches) {
        for await (const out of runPipeline(b, rowsOf([row]), ctx)) {
          ctx.tick();
          if (this.distinct) {
            const key = this.columns.map((c) => valueKey(out.get(c) ?? null)).join("\u0001");
            if (seen.has(key)) continue;
            seen.add(key);
          }
          yield out;
        }
      }
    }
  }
}

/**
 * FOREACH: per input row and element of the list, runs the inner updating
 * pipeline with the element bound, then passes the input row on.
 */
export class ForeachStage implements Stage {
  readonly name = "Foreach";
  constructor(readonly list: Expr, readonly variable: string, readonly children: Stage[]) {}
  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    for await (const row of input) {
      const v = await evaluate(this.list, row, ctx);
      if (v !== null && !Array.isArray(v)) throw typeMismatch("List", v);
      for (const x of v ?? []) {
        ctx.tick();
        const inner = new Map(row).set(this.variable, x);
        for await (const _ of runPipeline(this.children, rowsOf([inner]), ctx)) ctx.tick();
      }
      yield row;
    }
  }
}
