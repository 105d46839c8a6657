/**
 * Hand-written recursive-descent parser for the supported openCypher subset
 * (see ast.ts). Keywords are case-insensitive. Errors are {@link CypherError}s
 * with line/column/offset; syntax outside the subset (CALL,
 * shortestPath, pattern comprehensions, ...) is rejected by name. The
 * expression and pattern half lives in parser_expr.ts.
 * @module
 */
import { CypherError, type Value } from "../values.ts";
import type {
  Clause,
  Expr,
  Projection,
  ProjectionItem,
  Query,
  RemoveItem,
  SetItem,
  SortItem,
} from "./ast.ts";
import { syntaxError, type Token } from "./lexer.ts";
import { ExprParser } from "./parser_expr.ts";

/** Parses a whole query (with an optional `CYPHER k=v ...` parameter prefix). */
export function parseQuery(text: string): Query {
  const q = new Parser(text).query();
  checkDepth(q);
  return q;
}

/**
 * Deepest object nesting of a parsed query (long arithmetic chains nest
 * left; AND/OR/XOR chains are balanced). Evaluation recurses once per level,
 * so this keeps it well inside the stack.
 */
export const MAX_AST_DEPTH = 800;

/**
 * Rejects ASTs so deep that evaluating them recursively could exhaust the
 * stack (e.g. `1 + 1 + ... + 1` with tens of thousands of terms).
 */
function checkDepth(root: unknown): void {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== "object") continue;
    if (d > MAX_AST_DEPTH) throw new CypherError("Expression nested too deeply");
    const children = x instanceof Map ? [...x.values()] : Object.values(x);
    for (const c of children) if (c !== null && typeof c === "object") stack.push([c, d + 1]);
  }
}

/** Parses a standalone expression (tests and tools). */
export function parseExpression(text: string): Expr {
  const p = new Parser(text);
  const e = p.expr();
  p.expectEof();
  return e;
}

/** Clause-level keywords outside the subset, with the name used in the error. */
const UNSUPPORTED_CLAUSES: Record<string, string> = {
  CALL: "CALL",
  LOAD: "LOAD CSV",
  START: "START",
  USING: "USING",
  USE: "USE",
  SHOW: "SHOW",
};

/** Parser of whole queries: the clause half (see parser_expr.ts). */
class Parser extends ExprParser {
  // ----- query and clauses ---------------------------------------------------

  query(): Query {
    const params = new Map<string, Value>();
    if (this.isKw("CYPHER")) {
      this.pos++;
      while (this.peek().kind === "ident" && this.isSym("=", 1)) {
        const name = this.next().text;
        this.pos++;
        const start = this.peek();
        params.set(name, this.constant(this.expr(), start));
      }
    }
    const clauses = this.singleQuery();
    const union: Array<{ all: boolean; clauses: Clause[] }> = [];
    while (this.acceptKw("UNION")) {
      const all = this.acceptKw("ALL");
      union.push({ all, clauses: this.singleQuery() });
    }
    this.expectEof();
    if (union.length > 0) {
      if (union.some((u) => u.all) && union.some((u) => !u.all)) {
        throw new CypherError("Invalid combination of UNION and UNION ALL.");
      }
      for (const part of [clauses, ...union.map((u) => u.clauses)]) {
        if (part[part.length - 1].k !== "return") {
          throw new CypherError("Every part of a UNION must end with RETURN");
        }
      }
    }
    return { params, clauses, union };
  }

  /** Clauses up to the end, `;` or UNION. */
  private singleQuery(): Clause[] {
    const clauses: Clause[] = [];
    while (this.peek().kind !== "eof" && !this.isSym(";") && !this.isKw("UNION")) {
      clauses.push(this.clause());
    }
    if (clauses.length === 0) this.fail("a clause");
    this.checkStructure(clauses);
    return clauses;
  }

  /** Evaluates a constant expression of the CYPHER prefix. */
  private constant(e: Expr, at: Token): Value {
    switch (e.k) {
      case "lit":
        return e.v;
      case "list":
        return e.items.map((x) => this.constant(x, at));
      case "map":
        return new Map(e.entries.map(([k, x]) => [k, this.constant(x, at)]));
      case "neg": {
        const v = this.constant(e.e, at);
        if (typeof v === "bigint") return -v;
        if (typeof v === "number") return -v;
        break;
      }
    }
    throw syntaxError(this.text, at.offset, "Parameter values must be literals");
  }

  private checkStructure(clauses: Clause[]): void {
    clauses.forEach((c, i) => {
      const last = i === clauses.length - 1;
      if (c.k === "return" && !last) {
        throw new CypherError("RETURN can only be used at the end of the query");
      }
      if ((c.k === "create_index" || c.k === "drop_index") && clauses.length > 1) {
        throw new CypherError("Index operations must be the only clause of a query");
      }
      if (last && (c.k === "match" || c.k === "with" || c.k === "unwind")) {
        throw new CypherError(
          "Query cannot conclude with " + c.k.toUpperCase() +
            " (must be RETURN or an update clause)",
        );
      }
    });
  }

  private clause(): Clause {
    const t = this.peek();
    if (t.kind !== "ident" || t.quoted) this.fail("a clause keyword");
    const kw = t.text.toUpperCase();
    if (kw in UNSUPPORTED_CLAUSES) this.unsupported(UNSUPPORTED_CLAUSES[kw]);
    this.pos++;
    switch (kw) {
      case "MATCH":
        return this.match(false);
      case "OPTIONAL":
        this.expectKw("MATCH");
        return this.match(true);
      case "CREATE":
        if (this.isKw("INDEX")) return this.createIndex();
        if (this.isKw("CONSTRAINT")) this.unsupported("CREATE CONSTRAINT");
        return { k: "create", patterns: this.patternList() };
      case "MERGE":
        return this.merge();
      case "WITH": {
        const projection = this.projection();
        const where = this.acceptKw("WHERE") ? this.expr() : null;
        return { k: "with", projection, where };
      }
      case "RETURN":
        return { k: "return", projection: this.projection() };
      case "UNWIND": {
        const expr = this.expr();
        this.expectKw("AS");
        return { k: "unwind", expr, variable: this.variable() };
      }
      case "SET":
        return { k: "set", items: this.setItems() };
      case "REMOVE":
        return { k: "remove", items: this.removeItems() };
      case "DELETE":
        return { k: "delete", detach: false, exprs: this.exprList() };
      case "DETACH":
        this.expectKw("DELETE");
        return { k: "delete", detach: true, exprs: this.exprList() };
      case "FOREACH":
        return this.foreach();
      case "DROP":
        if (this.isKw("CONSTRAINT")) this.unsupported("DROP CONSTRAINT");
        this.expectKw("INDEX");
        return { k: "drop_index", ...this.indexTarget() };
    }
    this.pos--;
    this.fail("a clause keyword (MATCH, CREATE, MERGE, WITH, RETURN, ...)");
  }

  /** After FOREACH: `(x IN list | clause ...)`; only updating clauses inside. */
  private foreach(): Clause {
    this.expectSym("(");
    const variable = this.variable();
    this.expectKw("IN");
    const list = this.expr();
    this.expectSym("|");
    const clauses: Clause[] = [];
    while (!this.isSym(")")) {
      const at = this.peek();
      const c = this.clause();
      if (!["create", "merge", "set", "remove", "delete", "foreach"].includes(c.k)) {
        throw syntaxError(this.text, at.offset, "Only updating clauses may be used inside FOREACH");
      }
      clauses.push(c);
    }
    if (clauses.length === 0) this.fail("an updating clause");
    this.expectSym(")");
    return { k: "foreach", variable, list, clauses };
  }

  private match(optional: boolean): Clause {
    const patterns = this.patternList();
    const where = this.acceptKw("WHERE") ? this.expr() : null;
    return { k: "match", optional, patterns, where };
  }

  private merge(): Clause {
    const pattern = this.pathPattern();
    const onCreate: SetItem[] = [], onMatch: SetItem[] = [];
    while (this.isKw("ON")) {
      this.pos++;
      if (this.acceptKw("CREATE")) {
        this.expectKw("SET");
        onCreate.push(...this.setItems());
      } else if (this.acceptKw("MATCH")) {
        this.expectKw("SET");
        onMatch.push(...this.setItems());
      } else this.fail("CREATE or MATCH");
    }
    return { k: "merge", pattern, onCreate, onMatch };
  }

  private createIndex(): Clause {
    this.expectKw("INDEX");
    if (this.isKw("ON")) return { k: "create_index", ...this.indexTarget() };
    if (!this.isKw("FOR")) {
      if (this.peek().kind === "ident" && this.isKw("FOR", 1)) {
        this.unsupported("Named indexes");
      }
      this.fail("ON or FOR");
    }
    this.pos++;
    this.expectSym("(");
    if (this.isSym(")") && (this.isSym("-", 1) || this.isSym("<", 1))) {
      this.unsupported("Relationship indexes");
    }
    const v = this.variable();
    this.expectSym(":");
    const label = this.name("a label");
    this.expectSym(")");
    if (this.isSym("-") || this.isSym("<")) this.unsupported("Relationship indexes");
    this.expectKw("ON");
    this.expectSym("(");
    const at = this.peek();
    const v2 = this.variable();
    if (v2 !== v) throw syntaxError(this.text, at.offset, `'${v2}' not defined`);
    this.expectSym(".");
    const property = this.name("a property name");
    if (this.isSym(",")) this.unsupported("Composite indexes");
    this.expectSym(")");
    return { k: "create_index", label, property };
  }

  /** `ON :Label(prop)`. */
  private indexTarget(): { label: string; property: string } {
    this.expectKw("ON");
    this.expectSym(":");
    const label = this.name("a label");
    this.expectSym("(");
    const property = this.name("a property name");
    if (this.isSym(",")) this.unsupported("Composite indexes");
    this.expectSym(")");
    return { label, property };
  }

  private exprList(): Expr[] {
    const out = [this.expr()];
    while (this.acceptSym(",")) out.push(this.expr());
    return out;
  }

  private setItems(): SetItem[] {
    const out: SetItem[] = [];
    do {
      const variable = this.variable();
      if (this.isSym(".")) {
        let target: Expr = { k: "var", name: variable };
        this.pos++;
        let key = this.name("a property name");
        while (this.acceptSym(".")) {
          target = { k: "prop", e: target, key };
          key = this.name("a property name");
        }
        this.expectSym("=");
        out.push({ k: "prop", target, key, value: this.expr() });
      } else if (this.acceptSym("=")) {
        out.push({ k: "replace", variable, value: this.expr() });
      } else if (this.acceptSym("+=")) {
        out.push({ k: "merge", variable, value: this.expr() });
      } else if (this.isSym(":")) {
        out.push({ k: "labels", variable, labels: this.labels() });
      } else this.fail("'.', '=', '+=' or ':'");
    } while (this.acceptSym(","));
    return out;
  }

  private removeItems(): RemoveItem[] {
    const out: RemoveItem[] = [];
    do {
      const variable = this.variable();
      if (this.acceptSym(".")) {
        let target: Expr = { k: "var", name: variable };
        let key = this.name("a property name");
        while (this.acceptSym(".")) {
          target = { k: "prop", e: target, key };
          key = this.name("a property name");
        }
        out.push({ k: "prop", target, key });
      } else if (this.isSym(":")) {
        out.push({ k: "labels", variable, labels: this.labels() });
      } else this.fail("'.' or ':'");
    } while (this.acceptSym(","));
    return out;
  }

  private projection(): Projection {
    const distinct = this.acceptKw("DISTINCT");
    let star = false;
    const items: ProjectionItem[] = [];
    if (this.acceptSym("*")) {
      star = true;
      if (this.acceptSym(",")) items.push(...this.projectionItems());
    } else items.push(...this.projectionItems());
    const order: SortItem[] = [];
    if (this.acceptKw("ORDER")) {
      this.expectKw("BY");
      do {
        const expr = this.expr();
        let descending = false;
        if (this.acceptKw("DESC") || this.acceptKw("DESCENDING")) descending = true;
        else if (!this.acceptKw("ASC")) this.acceptKw("ASCENDING");
        order.push({ expr, descending });
      } while (this.acceptSym(","));
    }
    const skip = this.acceptKw("SKIP") ? this.expr() : null;
    const limit = this.acceptKw("LIMIT") ? this.expr() : null;
    return { distinct, star, items, order, skip, limit };
  }

  private projectionItems(): ProjectionItem[] {
    const out: ProjectionItem[] = [];
    do {
      const first = this.peek();
      const expr = this.expr();
      const last = this.toks[this.pos - 1];
      if (this.acceptKw("AS")) {
        out.push({ expr, name: this.variable(), aliased: true });
      } else {
        out.push({ expr, name: this.text.slice(first.offset, last.end), aliased: false });
      }
    } while (this.acceptSym(","));
    return out;
  }
}
