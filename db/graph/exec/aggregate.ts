/**
 * Aggregation: groups rows by the non-aggregate projection items and folds
 * the aggregate calls (count, sum, avg, min, max, collect, stdev, stdevp),
 * then evaluates the aggregate items with each call replaced by its result.
 * @module
 */
import {
  checkedInt,
  CypherError,
  isNumber,
  order,
  toFloat,
  type Value,
  valueKey,
} from "../values.ts";
import { type Expr, HIDDEN } from "../cypher/ast.ts";
import type { ExecContext, Row } from "./context.ts";
import { evaluate, typeMismatch } from "./eval.ts";
import type { Column } from "./ops.ts";
import type { Stage } from "./stage.ts";

/** Hidden variable holding grouping key `i` while aggregate items are evaluated. */
export function keySlot(i: number): string {
  return `${HIDDEN}key${i}`;
}

/** One aggregate call, its result stored under `slot` (a hidden variable name). */
export interface AggregateSpec {
  fn: string;
  distinct: boolean;
  /** Null for count(*). */
  arg: Expr | null;
  /** The second argument of percentileCont/percentileDisc (evaluated per group). */
  param: Expr | null;
  slot: string;
}

interface Accumulator {
  add(v: Value): void;
  result(): Value;
}

function accumulator(fn: string, param: Value): Accumulator {
  switch (fn) {
    case "percentilecont":
    case "percentiledisc": {
      if (typeof param !== "number" && typeof param !== "bigint") {
        throw typeMismatch("Float", param);
      }
      const p = toFloat(param);
      if (!(p >= 0 && p <= 1)) {
        throw new CypherError(`${fn}(): the percentile must be a number in the range 0.0 to 1.0`);
      }
      const xs: Array<bigint | number> = [];
      return {
        add(v) {
          if (v === null) return;
          if (!isNumber(v)) throw typeMismatch("Integer or Float", v);
          xs.push(v);
        },
        result() {
          if (xs.length === 0) return null;
          xs.sort(order);
          if (fn === "percentiledisc") return xs[Math.max(0, Math.ceil(p * xs.length) - 1)];
          const pos = p * (xs.length - 1), lo = Math.floor(pos), hi = Math.ceil(pos);
          const a = toFloat(xs[lo]), b = toFloat(xs[hi]);
          return a + (b - a) * (pos - lo);
        },
      };
    }
    case "count": {
      let n = 0n;
      return { add: (v) => void (v !== null && n++), result: () => n };
    }
    case "sum": {
      let int = 0n, float = 0, isFloat = false;
      return {
        add(v) {
          if (v === null) return;
          if (!isNumber(v)) throw typeMismatch("Integer or Float", v);
          if (typeof v === "number") isFloat = true;
          if (typeof v === "bigint" && !isFloat) int = checkedInt(int + v);
          else float += toFloat(v);
        },
        result: () => (isFloat ? float + Number(int) : int),
      };
    }
    case "avg": {
      let sum = 0, n = 0;
      return {
        add(v) {
          if (v === null) return;
          if (!isNumber(v)) throw typeMismatch("Integer or Float", v);
          sum += toFloat(v);
          n++;
        },
        result: () => (n === 0 ? null : sum / n),
      };
    }
    case "min":
    case "max": {
      let best: Value = null;
      const sign = fn === "min" ? 1 : -1;
      return {
        add(v) {
          if (v === null) return;
          if (best === null || sign * order(v, best) < 0) best = v;
        },
        result: () => best,
      };
    }
    case "collect": {
      const out: Value[] = [];
      return { add: (v) => void (v !== null && out.push(v)), result: () => out };
    }
    case "stdev":
    case "stdevp": {
      const xs: number[] = [];
      return {
        add(v) {
          if (v === null) return;
          if (!isNumber(v)) throw typeMismatch("Integer or Float", v);
          xs.push(toFloat(v));
        },
        result() {
          const n = xs.length;
          const d = fn === "stdev" ? n - 1 : n;
          if (d <= 0) return 0;
          const mean = xs.reduce((a, b) => a + b, 0) / n;
          return Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / d);
        },
      };
    }
  }
  throw new CypherError(`Unknown aggregate function '${fn}'`);
}

interface Group {
  first: Row;
  keys: Value[];
  accs: Accumulator[];
  seen: Array<Set<string> | null>;
}

/**
 * Groups by `keys` (evaluated per input row), folds `aggregates`, then
 * outputs one row per group with `keys` and `items` (aggregate items,
 * evaluated with the slots bound) and `sortKeys` (hidden columns for Sort).
 * Without grouping keys, an empty input still gives one row.
 */
export class AggregateStage implements Stage {
  readonly name = "Aggregate";
  constructor(
    readonly keys: Column[],
    readonly aggregates: AggregateSpec[],
    readonly items: Column[],
    readonly sortKeys: Column[],
  ) {}

  /** Fresh accumulators for a group whose first row is `row`. */
  private async accumulators(row: Row, ctx: ExecContext): Promise<Accumulator[]> {
    const out: Accumulator[] = [];
    for (const a of this.aggregates) {
      out.push(accumulator(a.fn, a.param ? await evaluate(a.param, row, ctx) : null));
    }
    return out;
  }

  async *run(input: AsyncIterable<Row>, ctx: ExecContext): AsyncIterable<Row> {
    const groups = new Map<string, Group>();
    for await (const row of input) {
      ctx.tick();
      const keys: Value[] = [];
      for (const k of this.keys) keys.push(await evaluate(k.expr, row, ctx));
      const gk = keys.map(valueKey).join("\u0001");
      let g = groups.get(gk);
      if (!g) {
        g = {
          first: row,
          keys,
          accs: await this.accumulators(row, ctx),
          seen: this.aggregates.map((a) => (a.distinct ? new Set() : null)),
        };
        groups.set(gk, g);
      }
      for (let i = 0; i < this.aggregates.length; i++) {
        const a = this.aggregates[i];
        const v = a.arg === null ? true : await evaluate(a.arg, row, ctx);
        const seen = g.seen[i];
        if (seen && v !== null) {
          const vk = valueKey(v);
          if (seen.has(vk)) continue;
          seen.add(vk);
        }
        g.accs[i].add(v);
      }
    }
    if (groups.size === 0 && this.keys.length === 0) {
      groups.set("", {
        first: new Map(),
        keys: [],
        accs: await this.accumulators(new Map(), ctx),
        seen: [],
      });
    }
    for (const g of groups.values()) {
      ctx.tick();
      const env = new Map(g.first);
      this.aggregates.forEach((a, i) => env.set(a.slot, g.accs[i].result()));
      g.keys.forEach((k, i) => env.set(keySlot(i), k));
      const out = new Map<string, Value>();
      this.keys.forEach((k, i) => out.set(k.name, g.keys[i]));
      for (const it of this.items) out.set(it.name, await evaluate(it.expr, env, ctx));
      if (this.sortKeys.length > 0) {
        const both = new Map([...env, ...out]);
        for (const s of this.sortKeys) out.set(s.name, await evaluate(s.expr, both, ctx));
      }
      yield out;
    }
  }
}
