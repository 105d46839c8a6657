/**
 * Hand-written recursive-descent parser for the supported openCypher subset
 * (see ast.ts). Keywords are case-insensitive. Errors are {@link CypherError}s
 * with line/column/offset; syntax outside the subset (CALL, FOREACH,
 * shortestPath, list comprehensions, ...) is rejected by name.
 * @module
 */
import { CypherError, INT64_MAX, type Value } from "../values.ts";
import type {
  BinaryOp,
  Clause,
  Expr,
  MapProjectionItem,
  NodePattern,
  PathPattern,
  Projection,
  ProjectionItem,
  Query,
  RelPattern,
  RemoveItem,
  SetItem,
  SortItem,
  VarLength,
} from "./ast.ts";
import { syntaxError, type Token, tokenize } from "./lexer.ts";

/** Parses a whole query (with an optional `CYPHER k=v ...` parameter prefix). */
export function parseQuery(text: string): Query {
  return new Parser(text).query();
}

/** Parses a standalone expression (tests and tools). */
export function parseExpression(text: string): Expr {
  const p = new Parser(text);
  const e = p.expr();
  p.expectEof();
  return e;
}

const CLAUSE_START = new Set([
  "MATCH",
  "OPTIONAL",
  "CREATE",
  "MERGE",
  "WITH",
  "RETURN",
  "UNWIND",
  "SET",
  "REMOVE",
  "DELETE",
  "DETACH",
  "DROP",
]);

/** Clause-level keywords outside the subset, with the name used in the error. */
const UNSUPPORTED_CLAUSES: Record<string, string> = {
  CALL: "CALL",
  FOREACH: "FOREACH",
  LOAD: "LOAD CSV",
  START: "START",
  USING: "USING",
  USE: "USE",
  SHOW: "SHOW",
};

/** Words that can never be a variable in an expression. */
const RESERVED = new Set([
  "AND",
  "OR",
  "XOR",
  "NOT",
  "IN",
  "IS",
  "STARTS",
  "ENDS",
  "CONTAINS",
  "AS",
  "WHEN",
  "THEN",
  "ELSE",
  "END",
  "ORDER",
  "SKIP",
  "LIMIT",
  "ASC",
  "DESC",
  "ASCENDING",
  "DESCENDING",
  "BY",
  "WHERE",
  ...CLAUSE_START,
]);

class Parser {
  private toks: Token[];
  private pos = 0;
  /** Number of pattern expressions so far (their ids). */
  private patterns = 0;

  constructor(private text: string) {
    this.toks = tokenize(text);
  }

  // ----- token helpers -------------------------------------------------------

  private peek(ahead = 0): Token {
    return this.toks[Math.min(this.pos + ahead, this.toks.length - 1)];
  }
  private next(): Token {
    const t = this.peek();
    if (t.kind !== "eof") this.pos++;
    return t;
  }
  /** True when the token `ahead` is keyword `kw` (unquoted identifier, any case). */
  private isKw(kw: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === "ident" && !t.quoted && t.text.toUpperCase() === kw;
  }
  private isSym(s: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === "sym" && t.text === s;
  }
  private acceptKw(kw: string): boolean {
    if (!this.isKw(kw)) return false;
    this.pos++;
    return true;
  }
  private acceptSym(s: string): boolean {
    if (!this.isSym(s)) return false;
    this.pos++;
    return true;
  }
  private fail(expected: string, t: Token = this.peek()): never {
    const found = t.kind === "eof" ? "end of input" : `'${this.text.slice(t.offset, t.end)}'`;
    throw syntaxError(this.text, t.offset, `Invalid input ${found}: expected ${expected}`);
  }
  private expectKw(kw: string): void {
    if (!this.acceptKw(kw)) this.fail(kw);
  }
  private expectSym(s: string): void {
    if (!this.acceptSym(s)) this.fail(`'${s}'`);
  }
  private unsupported(what: string, t: Token = this.peek()): never {
    throw syntaxError(this.text, t.offset, `${what} is not supported`);
  }
  /** A name: identifier (keywords allowed where a name is expected). */
  private name(what: string): string {
    const t = this.peek();
    if (t.kind !== "ident") this.fail(what);
    this.pos++;
    return t.text;
  }
  /** A variable name: an identifier that is not a reserved word (unless quoted). */
  private variable(): string {
    const t = this.peek();
    if (t.kind !== "ident" || (!t.quoted && RESERVED.has(t.text.toUpperCase()))) {
      this.fail("a variable name");
    }
    this.pos++;
    return t.text;
  }
  expectEof(): void {
    this.acceptSym(";");
    if (this.peek().kind !== "eof") this.fail("end of input");
  }

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
      case "DROP":
        if (this.isKw("CONSTRAINT")) this.unsupported("DROP CONSTRAINT");
        this.expectKw("INDEX");
        return { k: "drop_index", ...this.indexTarget() };
    }
    this.pos--;
    this.fail("a clause keyword (MATCH, CREATE, MERGE, WITH, RETURN, ...)");
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

  /** `:A:B` (at least one). */
  private labels(): string[] {
    const out: string[] = [];
    while (this.acceptSym(":")) out.push(this.name("a label"));
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

  // ----- patterns ------------------------------------------------------------

  private patternList(): PathPattern[] {
    const out = [this.pathPattern()];
    while (this.acceptSym(",")) out.push(this.pathPattern());
    return out;
  }

  private pathPattern(): PathPattern {
    let variable: string | null = null;
    if (this.peek().kind === "ident" && this.isSym("=", 1)) {
      variable = this.variable();
      this.pos++;
    }
    if (this.isKw("SHORTESTPATH") || this.isKw("ALLSHORTESTPATHS")) {
      this.unsupported(this.peek().text);
    }
    const nodes = [this.nodePattern()];
    const rels: RelPattern[] = [];
    while (this.isSym("-") || (this.isSym("<") && this.isSym("-", 1))) {
      rels.push(this.relPattern());
      nodes.push(this.nodePattern());
    }
    return { variable, nodes, rels };
  }

  private nodePattern(): NodePattern {
    const open = this.peek();
    this.expectSym("(");
    let variable: string | null = null;
    if (this.peek().kind === "ident") variable = this.variable();
    const labels = this.isSym(":") ? this.labels() : [];
    const properties = this.patternProperties();
    this.expectSym(")");
    return { variable, labels, properties, offset: open.offset };
  }

  private patternProperties(): Expr | null {
    if (this.isSym("{")) return this.mapLiteral();
    if (this.peek().kind === "param") return { k: "param", name: this.next().text };
    return null;
  }

  private relPattern(): RelPattern {
    const start = this.peek();
    const left = this.acceptSym("<");
    this.expectSym("-");
    let variable: string | null = null;
    let types: string[] = [];
    let properties: Expr | null = null;
    let varLength: VarLength | null = null;
    if (this.acceptSym("[")) {
      if (this.peek().kind === "ident") variable = this.variable();
      if (this.acceptSym(":")) {
        types.push(this.name("a relationship type"));
        while (this.acceptSym("|")) {
          this.acceptSym(":");
          types.push(this.name("a relationship type"));
        }
      }
      if (this.acceptSym("*")) varLength = this.varLength();
      properties = this.patternProperties();
      this.expectSym("]");
      this.expectSym("-");
    } else if (!this.acceptSym("-")) {
      this.fail("'-' or '['");
    }
    const right = this.acceptSym(">");
    types = [...new Set(types)];
    const direction = left === right ? "both" : right ? "out" : "in";
    return { variable, types, direction, properties, varLength, offset: start.offset };
  }

  private varLength(): VarLength {
    const int = (): number | null => {
      const t = this.peek();
      if (t.kind !== "int") return null;
      this.pos++;
      const n = Number(t.text);
      if (!Number.isSafeInteger(n)) throw syntaxError(this.text, t.offset, "Hop count too large");
      return n;
    };
    const min = int();
    if (this.acceptSym("..")) {
      const max = int();
      const lo = min ?? 1;
      if (max !== null && max < lo) {
        throw new CypherError(`Invalid variable length range *${lo}..${max}`);
      }
      return { min: lo, max };
    }
    if (min !== null) return { min, max: min };
    return { min: 1, max: null };
  }

  // ----- expressions ---------------------------------------------------------

  expr(): Expr {
    return this.orExpr();
  }

  private orExpr(): Expr {
    let l = this.xorExpr();
    while (this.acceptKw("OR")) l = { k: "bin", op: "OR", l, r: this.xorExpr() };
    return l;
  }
  private xorExpr(): Expr {
    let l = this.andExpr();
    while (this.acceptKw("XOR")) l = { k: "bin", op: "XOR", l, r: this.andExpr() };
    return l;
  }
  private andExpr(): Expr {
    let l = this.notExpr();
    while (this.acceptKw("AND")) l = { k: "bin", op: "AND", l, r: this.notExpr() };
    return l;
  }
  private notExpr(): Expr {
    if (this.acceptKw("NOT")) return { k: "not", e: this.notExpr() };
    return this.comparison();
  }

  private comparisonOp(): BinaryOp | null {
    const t = this.peek();
    if (t.kind !== "sym") return null;
    switch (t.text) {
      case "=":
      case "<>":
      case "<":
      case "<=":
      case ">":
      case ">=":
        return t.text;
      case "!=":
        return "<>";
      case "=~":
        this.unsupported("Regular expression matching (=~)");
    }
    return null;
  }

  private comparison(): Expr {
    const first = this.predicate();
    const parts: Expr[] = [];
    let prev = first;
    for (;;) {
      const op = this.comparisonOp();
      if (!op) break;
      this.pos++;
      const r = this.predicate();
      parts.push({ k: "bin", op, l: prev, r });
      prev = r;
    }
    if (parts.length === 0) return first;
    // a < b < c means a < b AND b < c.
    return parts.reduce((l, r) => ({ k: "bin", op: "AND", l, r }));
  }

  /** IN, STARTS WITH, ENDS WITH, CONTAINS, IS [NOT] NULL. */
  private predicate(): Expr {
    let e = this.additive();
    for (;;) {
      if (this.acceptKw("IN")) e = { k: "bin", op: "IN", l: e, r: this.additive() };
      else if (this.isKw("STARTS") && this.isKw("WITH", 1)) {
        this.pos += 2;
        e = { k: "bin", op: "STARTS WITH", l: e, r: this.additive() };
      } else if (this.isKw("ENDS") && this.isKw("WITH", 1)) {
        this.pos += 2;
        e = { k: "bin", op: "ENDS WITH", l: e, r: this.additive() };
      } else if (this.acceptKw("CONTAINS")) {
        e = { k: "bin", op: "CONTAINS", l: e, r: this.additive() };
      } else if (this.acceptKw("IS")) {
        const negated = this.acceptKw("NOT");
        this.expectKw("NULL");
        e = { k: "isnull", e, negated };
      } else return e;
    }
  }

  private additive(): Expr {
    let l = this.multiplicative();
    for (;;) {
      if (this.acceptSym("+")) l = { k: "bin", op: "+", l, r: this.multiplicative() };
      else if (this.acceptSym("-")) l = { k: "bin", op: "-", l, r: this.multiplicative() };
      else return l;
    }
  }
  private multiplicative(): Expr {
    let l = this.power();
    for (;;) {
      const t = this.peek();
      if (t.kind === "sym" && (t.text === "*" || t.text === "/" || t.text === "%")) {
        this.pos++;
        l = { k: "bin", op: t.text, l, r: this.power() };
      } else return l;
    }
  }
  private power(): Expr {
    let l = this.unary();
    while (this.acceptSym("^")) l = { k: "bin", op: "^", l, r: this.unary() };
    return l;
  }
  private unary(): Expr {
    if (this.acceptSym("-")) {
      const t = this.peek();
      // -9223372036854775808 is a valid literal although its magnitude is not.
      if (t.kind === "int" && !this.isPostfixAfter(1)) {
        this.pos++;
        return { k: "lit", v: this.intLiteral(t, true) };
      }
      return { k: "neg", e: this.unary() };
    }
    if (this.acceptSym("+")) return this.unary();
    return this.postfix();
  }
  /** True when the token `ahead` starts a postfix operator ('.', '[' , ':'). */
  private isPostfixAfter(ahead: number): boolean {
    return this.isSym(".", ahead) || this.isSym("[", ahead) || this.isSym("^", ahead);
  }

  private intLiteral(t: Token, negative: boolean): bigint {
    let v: bigint;
    try {
      v = BigInt(t.text);
    } catch {
      throw syntaxError(this.text, t.offset, `Invalid integer '${t.text}'`);
    }
    if (negative) v = -v;
    if (v > INT64_MAX || v < -INT64_MAX - 1n) {
      throw syntaxError(this.text, t.offset, `Integer overflow '${t.text}'`);
    }
    return v;
  }

  private postfix(): Expr {
    let e = this.atom();
    for (;;) {
      if (e.k === "var" && this.isSym("{")) {
        e = this.mapProjection(e);
      } else if (this.acceptSym(".")) {
        e = { k: "prop", e, key: this.name("a property name") };
      } else if (this.acceptSym("[")) {
        if (this.acceptSym("..")) {
          const to = this.isSym("]") ? null : this.expr();
          this.expectSym("]");
          e = { k: "slice", e, from: null, to };
          continue;
        }
        const idx = this.expr();
        if (this.acceptSym("..")) {
          const to = this.isSym("]") ? null : this.expr();
          this.expectSym("]");
          e = { k: "slice", e, from: idx, to };
          continue;
        }
        this.expectSym("]");
        e = { k: "index", e, idx };
      } else if (this.isSym(":") && this.peek(1).kind === "ident") {
        e = { k: "haslabels", e, labels: this.labels() };
      } else return e;
    }
  }

  private atom(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case "int":
        this.pos++;
        return { k: "lit", v: this.intLiteral(t, false) };
      case "float":
        this.pos++;
        return { k: "lit", v: Number(t.text) };
      case "string":
        this.pos++;
        return { k: "lit", v: t.text };
      case "param":
        this.pos++;
        return { k: "param", name: t.text };
      case "eof":
        this.fail("an expression");
        break;
      case "sym":
        return this.symAtom(t);
      case "ident":
        return this.identAtom(t);
    }
    this.fail("an expression");
  }

  private symAtom(t: Token): Expr {
    if (t.text === "(") {
      // A pattern used as a predicate: (a)-->(b).
      if (this.looksLikePatternExpr()) {
        return { k: "pattern", pattern: this.pathPattern(), id: this.patterns++ };
      }
      this.pos++;
      const e = this.expr();
      this.expectSym(")");
      return e;
    }
    if (t.text === "[") {
      this.pos++;
      if (this.peek().kind === "ident" && this.isKw("IN", 1)) return this.listComprehension();
      if (this.isSym("(") && this.looksLikePatternExpr()) {
        this.unsupported("Pattern comprehensions");
      }
      const items: Expr[] = [];
      if (!this.isSym("]")) {
        do items.push(this.expr()); while (this.acceptSym(","));
      }
      this.expectSym("]");
      return { k: "list", items };
    }
    if (t.text === "{") return this.mapLiteral();
    this.fail("an expression");
  }

  /** `{.a, .*, k: expr, v}` after a variable. */
  private mapProjection(e: Expr): Expr {
    this.expectSym("{");
    const items: MapProjectionItem[] = [];
    if (!this.isSym("}")) {
      do {
        if (this.acceptSym(".")) {
          if (this.acceptSym("*")) items.push({ k: "all" });
          else items.push({ k: "prop", key: this.name("a property name") });
        } else if (this.peek().kind === "ident" && this.isSym(":", 1)) {
          const key = this.next().text;
          this.pos++;
          items.push({ k: "entry", key, expr: this.expr() });
        } else {
          const name = this.variable();
          items.push({ k: "entry", key: name, expr: { k: "var", name } });
        }
      } while (this.acceptSym(","));
    }
    this.expectSym("}");
    return { k: "mapproj", e, items };
  }

  /** After `[`: `x IN list [WHERE pred] [| expr] ]`. */
  private listComprehension(): Expr {
    const variable = this.variable();
    this.expectKw("IN");
    const list = this.expr();
    const where = this.acceptKw("WHERE") ? this.expr() : null;
    const map = this.acceptSym("|") ? this.expr() : null;
    this.expectSym("]");
    return { k: "listcomp", variable, list, where, map };
  }

  /** After `all(`: `x IN list WHERE pred )`. */
  private quantifier(fn: "all" | "any" | "none" | "single"): Expr {
    const variable = this.variable();
    this.expectKw("IN");
    const list = this.expr();
    this.expectKw("WHERE");
    const where = this.expr();
    this.expectSym(")");
    return { k: "quantifier", fn, variable, list, where };
  }

  /** After `reduce(`: `acc = init, x IN list | expr )`. */
  private reduce(): Expr {
    const acc = this.variable();
    this.expectSym("=");
    const init = this.expr();
    this.expectSym(",");
    const variable = this.variable();
    this.expectKw("IN");
    const list = this.expr();
    this.expectSym("|");
    const expr = this.expr();
    this.expectSym(")");
    return { k: "reduce", acc, init, variable, list, expr };
  }

  /** `(` ident? (`:`label)* `)` followed by a relationship arrow. */
  private looksLikePatternExpr(): boolean {
    let i = 1;
    if (this.peek(i).kind === "ident") i++;
    while (this.isSym(":", i) && this.peek(i + 1).kind === "ident") i += 2;
    if (!this.isSym(")", i)) return false;
    i++;
    return (this.isSym("-", i) && (this.isSym("-", i + 1) || this.isSym("[", i + 1))) ||
      (this.isSym("<", i) && this.isSym("-", i + 1));
  }

  private mapLiteral(): Expr {
    this.expectSym("{");
    const entries: Array<[string, Expr]> = [];
    const seen = new Set<string>();
    if (!this.isSym("}")) {
      do {
        const key = this.name("a map key");
        this.expectSym(":");
        const value = this.expr();
        if (seen.has(key)) {
          const i = entries.findIndex(([k]) => k === key);
          entries[i] = [key, value];
        } else entries.push([key, value]);
        seen.add(key);
      } while (this.acceptSym(","));
    }
    this.expectSym("}");
    return { k: "map", entries };
  }

  private identAtom(t: Token): Expr {
    const upper = t.quoted ? "" : t.text.toUpperCase();
    switch (upper) {
      case "TRUE":
        this.pos++;
        return { k: "lit", v: true };
      case "FALSE":
        this.pos++;
        return { k: "lit", v: false };
      case "NULL":
        this.pos++;
        return { k: "lit", v: null };
      case "CASE":
        this.pos++;
        return this.caseExpr();
      case "EXISTS":
        if (this.isSym("{", 1)) this.unsupported("EXISTS subqueries");
        break;
      case "ALL":
      case "ANY":
      case "NONE":
      case "SINGLE":
        if (this.isSym("(", 1) && this.peek(2).kind === "ident" && this.isKw("IN", 3)) {
          this.pos += 2;
          return this.quantifier(upper.toLowerCase() as "all" | "any" | "none" | "single");
        }
        break;
      case "REDUCE":
        if (this.isSym("(", 1)) {
          this.pos += 2;
          return this.reduce();
        }
        break;
      case "FILTER":
      case "EXTRACT":
        if (this.isSym("(", 1)) this.unsupported(`${t.text}()`);
        break;
      case "SHORTESTPATH":
      case "ALLSHORTESTPATHS":
        if (this.isSym("(", 1)) this.unsupported(t.text);
        break;
    }
    if (
      this.isSym("(", 1) || (this.isSym(".", 1) && this.peek(2).kind === "ident" &&
        this.isSym("(", 3))
    ) {
      return this.call();
    }
    if (!t.quoted && RESERVED.has(upper)) this.fail("an expression");
    this.pos++;
    return { k: "var", name: t.text };
  }

  private call(): Expr {
    let name = this.next().text;
    while (this.acceptSym(".")) name += "." + this.next().text;
    this.expectSym("(");
    const lower = name.toLowerCase();
    if (this.acceptSym("*")) {
      if (lower !== "count") this.fail("an expression");
      this.expectSym(")");
      return { k: "call", name: lower, distinct: false, args: [], star: true };
    }
    const distinct = this.acceptKw("DISTINCT");
    const args: Expr[] = [];
    if (!this.isSym(")")) {
      do args.push(this.expr()); while (this.acceptSym(","));
    }
    this.expectSym(")");
    // exists((a)-->(b)) is the pattern predicate itself.
    if (lower === "exists" && args.length === 1 && args[0].k === "pattern") return args[0];
    return { k: "call", name: lower, distinct, args, star: false };
  }

  private caseExpr(): Expr {
    const subject = this.isKw("WHEN") ? null : this.expr();
    const whens: Array<[Expr, Expr]> = [];
    while (this.acceptKw("WHEN")) {
      const w = this.expr();
      this.expectKw("THEN");
      whens.push([w, this.expr()]);
    }
    if (whens.length === 0) this.fail("WHEN");
    const otherwise = this.acceptKw("ELSE") ? this.expr() : null;
    this.expectKw("END");
    return { k: "case", subject, whens, otherwise };
  }
}
