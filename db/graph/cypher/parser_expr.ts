/**
 * The expression and pattern half of the recursive-descent parser (token
 * helpers, patterns, expressions); parser.ts adds queries and clauses.
 * @module
 */
import { CypherError, INT64_MAX } from "../values.ts";
import type {
  BinaryOp,
  Expr,
  MapProjectionItem,
  NodePattern,
  PathPattern,
  RelPattern,
  VarLength,
} from "./ast.ts";
import { syntaxError, type Token, tokenize } from "./lexer.ts";

/** Deepest nesting of expressions accepted (keeps recursion far from the stack limit). */
export const MAX_EXPRESSION_DEPTH = 200;

/**
 * `terms[0] op terms[1] op ...` as a balanced tree, so that thousands of
 * terms stay shallow. Only for AND, OR and XOR: they are associative (also in
 * three-valued logic) and the tree still evaluates its terms left to right.
 */
export function balanced(op: "AND" | "OR" | "XOR", terms: Expr[]): Expr {
  if (terms.length === 1) return terms[0];
  const mid = terms.length >> 1;
  return { k: "bin", op, l: balanced(op, terms.slice(0, mid)), r: balanced(op, terms.slice(mid)) };
}

/** Keywords that start a clause. */
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
  "FOREACH",
]);

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

/** Parser of expressions and patterns over the tokens of `text`. */
export class ExprParser {
  protected toks: Token[];
  protected pos = 0;
  /** Current nesting of expr() calls (bounded by MAX_EXPRESSION_DEPTH). */
  private depth = 0;
  /** Number of pattern expressions so far (their ids). */
  protected patterns = 0;

  constructor(protected text: string) {
    this.toks = tokenize(text);
  }

  // ----- token helpers -------------------------------------------------------

  protected peek(ahead = 0): Token {
    return this.toks[Math.min(this.pos + ahead, this.toks.length - 1)];
  }
  protected next(): Token {
    const t = this.peek();
    if (t.kind !== "eof") this.pos++;
    return t;
  }
  /** True when the token `ahead` is keyword `kw` (unquoted identifier, any case). */
  protected isKw(kw: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === "ident" && !t.quoted && t.text.toUpperCase() === kw;
  }
  protected isSym(s: string, ahead = 0): boolean {
    const t = this.peek(ahead);
    return t.kind === "sym" && t.text === s;
  }
  protected acceptKw(kw: string): boolean {
    if (!this.isKw(kw)) return false;
    this.pos++;
    return true;
  }
  protected acceptSym(s: string): boolean {
    if (!this.isSym(s)) return false;
    this.pos++;
    return true;
  }
  protected fail(expected: string, t: Token = this.peek()): never {
    const found = t.kind === "eof" ? "end of input" : `'${this.text.slice(t.offset, t.end)}'`;
    throw syntaxError(this.text, t.offset, `Invalid input ${found}: expected ${expected}`);
  }
  protected expectKw(kw: string): void {
    if (!this.acceptKw(kw)) this.fail(kw);
  }
  protected expectSym(s: string): void {
    if (!this.acceptSym(s)) this.fail(`'${s}'`);
  }
  protected unsupported(what: string, t: Token = this.peek()): never {
    throw syntaxError(this.text, t.offset, `${what} is not supported`);
  }
  /** A name: identifier (keywords allowed where a name is expected). */
  protected name(what: string): string {
    const t = this.peek();
    if (t.kind !== "ident") this.fail(what);
    this.pos++;
    return t.text;
  }
  /** A variable name: an identifier that is not a reserved word (unless quoted). */
  protected variable(): string {
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

  /** `:A:B` (at least one). */
  protected labels(): string[] {
    const out: string[] = [];
    while (this.acceptSym(":")) out.push(this.name("a label"));
    return out;
  }
  // ----- patterns ------------------------------------------------------------

  protected patternList(): PathPattern[] {
    const out = [this.pathPattern()];
    while (this.acceptSym(",")) out.push(this.pathPattern());
    return out;
  }

  protected pathPattern(): PathPattern {
    let variable: string | null = null;
    if (this.peek().kind === "ident" && this.isSym("=", 1)) {
      variable = this.variable();
      this.pos++;
    }
    if (this.isKw("SHORTESTPATH") || this.isKw("ALLSHORTESTPATHS")) {
      const kw = this.next();
      const shortest = kw.text.toUpperCase() === "SHORTESTPATH" ? "one" : "all";
      this.expectSym("(");
      const inner = this.pathPattern();
      this.expectSym(")");
      if (inner.variable || inner.shortest || inner.rels.length !== 1) {
        throw syntaxError(
          this.text,
          kw.offset,
          `${kw.text}() needs a single relationship pattern between two nodes`,
        );
      }
      const r = inner.rels[0];
      const len = r.varLength ?? { min: 1, max: 1 };
      if (len.min > 1) {
        throw syntaxError(
          this.text,
          kw.offset,
          `${kw.text}() supports a minimal length of 0 or 1 only`,
        );
      }
      return { ...inner, variable, shortest, rels: [{ ...r, varLength: len }] };
    }
    const nodes = [this.nodePattern()];
    const rels: RelPattern[] = [];
    while (this.isSym("-") || (this.isSym("<") && this.isSym("-", 1))) {
      rels.push(this.relPattern());
      nodes.push(this.nodePattern());
    }
    return { variable, nodes, rels };
  }

  protected nodePattern(): NodePattern {
    const open = this.peek();
    this.expectSym("(");
    let variable: string | null = null;
    if (this.peek().kind === "ident") variable = this.variable();
    const labels = this.isSym(":") ? this.labels() : [];
    const properties = this.patternProperties();
    this.expectSym(")");
    return { variable, labels, properties, offset: open.offset };
  }

  protected patternProperties(): Expr | null {
    if (this.isSym("{")) return this.mapLiteral();
    if (this.peek().kind === "param") return { k: "param", name: this.next().text };
    return null;
  }

  protected relPattern(): RelPattern {
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

  protected varLength(): VarLength {
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
    return this.nested(() => this.orExpr());
  }

  /** Runs `f` one nesting level deeper (bounded by MAX_EXPRESSION_DEPTH). */
  private nested<T>(f: () => T): T {
    if (++this.depth > MAX_EXPRESSION_DEPTH) {
      throw syntaxError(this.text, this.peek().offset, "Expression nested too deeply");
    }
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  protected orExpr(): Expr {
    const terms = [this.xorExpr()];
    while (this.acceptKw("OR")) terms.push(this.xorExpr());
    return balanced("OR", terms);
  }
  protected xorExpr(): Expr {
    const terms = [this.andExpr()];
    while (this.acceptKw("XOR")) terms.push(this.andExpr());
    return balanced("XOR", terms);
  }
  protected andExpr(): Expr {
    const terms = [this.notExpr()];
    while (this.acceptKw("AND")) terms.push(this.notExpr());
    return balanced("AND", terms);
  }
  protected notExpr(): Expr {
    if (this.acceptKw("NOT")) return this.nested(() => ({ k: "not", e: this.notExpr() }));
    return this.comparison();
  }

  protected comparisonOp(): BinaryOp | null {
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

  protected comparison(): Expr {
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
  protected predicate(): Expr {
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

  protected additive(): Expr {
    let l = this.multiplicative();
    for (;;) {
      if (this.acceptSym("+")) l = { k: "bin", op: "+", l, r: this.multiplicative() };
      else if (this.acceptSym("-")) l = { k: "bin", op: "-", l, r: this.multiplicative() };
      else return l;
    }
  }
  protected multiplicative(): Expr {
    let l = this.power();
    for (;;) {
      const t = this.peek();
      if (t.kind === "sym" && (t.text === "*" || t.text === "/" || t.text === "%")) {
        this.pos++;
        l = { k: "bin", op: t.text, l, r: this.power() };
      } else return l;
    }
  }
  protected power(): Expr {
    let l = this.unary();
    while (this.acceptSym("^")) l = { k: "bin", op: "^", l, r: this.unary() };
    return l;
  }
  protected unary(): Expr {
    if (this.acceptSym("-")) {
      const t = this.peek();
      // -9223372036854775808 is a valid literal although its magnitude is not.
      if (t.kind === "int" && !this.isPostfixAfter(1)) {
        this.pos++;
        return { k: "lit", v: this.intLiteral(t, true) };
      }
      return this.nested(() => ({ k: "neg", e: this.unary() }));
    }
    if (this.acceptSym("+")) return this.nested(() => this.unary());
    return this.postfix();
  }
  /** True when the token `ahead` starts a postfix operator ('.', '[' , ':'). */
  protected isPostfixAfter(ahead: number): boolean {
    return this.isSym(".", ahead) || this.isSym("[", ahead) || this.isSym("^", ahead);
  }

  protected intLiteral(t: Token, negative: boolean): bigint {
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

  protected postfix(): Expr {
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

  protected atom(): Expr {
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

  protected symAtom(t: Token): Expr {
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
        const pattern = this.pathPattern();
        const where = this.acceptKw("WHERE") ? this.expr() : null;
        this.expectSym("|");
        const map = this.expr();
        this.expectSym("]");
        return { k: "pattern", pattern, id: this.patterns++, comp: { where, map } };
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
  protected mapProjection(e: Expr): Expr {
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
  protected listComprehension(): Expr {
    const variable = this.variable();
    this.expectKw("IN");
    const list = this.expr();
    const where = this.acceptKw("WHERE") ? this.expr() : null;
    const map = this.acceptSym("|") ? this.expr() : null;
    this.expectSym("]");
    return { k: "listcomp", variable, list, where, map };
  }

  /** After `all(`: `x IN list WHERE pred )`. */
  protected quantifier(fn: "all" | "any" | "none" | "single"): Expr {
    const variable = this.variable();
    this.expectKw("IN");
    const list = this.expr();
    this.expectKw("WHERE");
    const where = this.expr();
    this.expectSym(")");
    return { k: "quantifier", fn, variable, list, where };
  }

  /** After `reduce(`: `acc = init, x IN list | expr )`. */
  protected reduce(): Expr {
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
  protected looksLikePatternExpr(): boolean {
    let i = 1;
    if (this.peek(i).kind === "ident") i++;
    while (this.isSym(":", i) && this.peek(i + 1).kind === "ident") i += 2;
    if (!this.isSym(")", i)) return false;
    i++;
    return (this.isSym("-", i) && (this.isSym("-", i + 1) || this.isSym("[", i + 1))) ||
      (this.isSym("<", i) && this.isSym("-", i + 1));
  }

  protected mapLiteral(): Expr {
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

  protected identAtom(t: Token): Expr {
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
        if (this.isSym("(", 1)) this.unsupported(`${t.text}() outside of MATCH`);
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

  protected call(): Expr {
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

  protected caseExpr(): Expr {
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
