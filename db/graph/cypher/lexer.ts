/**
 * Cypher lexer: turns query text into tokens with their offsets. Keywords are
 * not distinguished from identifiers here (the parser matches them
 * case-insensitively); backtick-quoted identifiers are marked so they are
 * never taken for keywords.
 * @module
 */
import { CypherError } from "../values.ts";

/** Token kinds. */
export type TokenKind = "ident" | "int" | "float" | "string" | "sym" | "param" | "eof";

/** One token. `text` is the identifier/symbol/string content (unescaped). */
export interface Token {
  kind: TokenKind;
  text: string;
  /** Offset of the first character in the query text (UTF-16 units). */
  offset: number;
  /** Offset just past the token. */
  end: number;
  /** True for `backtick quoted` identifiers. */
  quoted?: boolean;
}

/** Multi-character symbols, longest first. */
const SYMBOLS = ["..", "<>", "<=", ">=", "+=", "=~", "!="];
const SINGLE = "()[]{},.:|=<>+-*/%^;";

/** Line and column (both 1-based) of `offset` in `text`. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1, start = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      start = i + 1;
    }
  }
  return { line, column: offset - start + 1 };
}

/** A syntax error at `offset`, RedisGraph style ("... line: 1, column: 12, offset: 11"). */
export function syntaxError(text: string, offset: number, message: string): CypherError {
  const { line, column } = lineColumn(text, offset);
  return new CypherError(`errMsg: ${message} line: ${line}, column: ${column}, offset: ${offset}`);
}

function isIdentStart(c: string): boolean {
  return /[\p{L}_]/u.test(c);
}
function isIdentPart(c: string): boolean {
  return /[\p{L}\p{N}_]/u.test(c);
}
function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/** Tokenizes `text`; the last token is always `eof`. Throws {@link CypherError} on bad input. */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    if (c === "/" && text[i + 1] === "/") {
      while (i < n && text[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && text[i + 1] === "*") {
      const close = text.indexOf("*/", i + 2);
      if (close < 0) throw syntaxError(text, i, "Unterminated comment");
      i = close + 2;
      continue;
    }
    const start = i;
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(text[i])) i++;
      out.push({ kind: "ident", text: text.slice(start, i), offset: start, end: i });
      continue;
    }
    if (c === "`") {
      let s = "";
      i++;
      for (;;) {
        if (i >= n) throw syntaxError(text, start, "Unterminated quoted identifier");
        if (text[i] === "`") {
          if (text[i + 1] === "`") {
            s += "`";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += text[i++];
      }
      if (s === "") throw syntaxError(text, start, "Empty quoted identifier");
      out.push({ kind: "ident", text: s, offset: start, end: i, quoted: true });
      continue;
    }
    if (isDigit(c) || (c === "." && isDigit(text[i + 1]))) {
      out.push(lexNumber(text, i));
      i = out[out.length - 1].end;
      continue;
    }
    if (c === "'" || c === '"') {
      const t = lexString(text, i);
      out.push(t);
      i = t.end;
      continue;
    }
    if (c === "$") {
      i++;
      let name: string;
      if (text[i] === "`") {
        const close = text.indexOf("`", i + 1);
        if (close < 0) throw syntaxError(text, start, "Unterminated quoted identifier");
        name = text.slice(i + 1, close);
        i = close + 1;
      } else {
        const s = i;
        while (i < n && isIdentPart(text[i])) i++;
        name = text.slice(s, i);
      }
      if (name === "") {
        throw syntaxError(text, start, "Invalid input '$': expected a parameter name");
      }
      out.push({ kind: "param", text: name, offset: start, end: i });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (SYMBOLS.includes(two)) {
      out.push({ kind: "sym", text: two, offset: start, end: i + 2 });
      i += 2;
      continue;
    }
    if (SINGLE.includes(c)) {
      out.push({ kind: "sym", text: c, offset: start, end: i + 1 });
      i++;
      continue;
    }
    throw syntaxError(text, i, `Invalid input '${c}'`);
  }
  out.push({ kind: "eof", text: "", offset: n, end: n });
  return out;
}

function lexNumber(text: string, start: number): Token {
  let i = start;
  const n = text.length;
  if (text[i] === "0" && (text[i + 1] === "x" || text[i + 1] === "X")) {
    i += 2;
    while (i < n && /[0-9a-fA-F]/.test(text[i])) i++;
    if (i === start + 2) throw syntaxError(text, start, "Invalid hexadecimal literal");
    return { kind: "int", text: text.slice(start, i), offset: start, end: i };
  }
  let float = false;
  while (isDigit(text[i])) i++;
  // "1..3" is a range: the dot belongs to "..", not to the number.
  if (text[i] === "." && isDigit(text[i + 1])) {
    float = true;
    i++;
    while (isDigit(text[i])) i++;
  }
  if (text[i] === "e" || text[i] === "E") {
    let j = i + 1;
    if (text[j] === "+" || text[j] === "-") j++;
    if (isDigit(text[j])) {
      float = true;
      i = j;
      while (isDigit(text[i])) i++;
    }
  }
  if (i < n && isIdentStart(text[i])) {
    throw syntaxError(text, i, `Invalid input '${text[i]}': expected a number`);
  }
  return { kind: float ? "float" : "int", text: text.slice(start, i), offset: start, end: i };
}

const ESCAPES: Record<string, string> = {
  "\\": "\\",
  "'": "'",
  '"': '"',
  "n": "\n",
  "t": "\t",
  "r": "\r",
  "b": "\b",
  "f": "\f",
  "0": "\0",
};

function lexString(text: string, start: number): Token {
  const quote = text[start];
  let i = start + 1;
  let s = "";
  for (;;) {
    if (i >= text.length) throw syntaxError(text, start, "Unterminated string literal");
    const c = text[i];
    if (c === quote) {
      i++;
      break;
    }
    if (c === "\\") {
      const e = text[i + 1];
      if (e === "u" || e === "U") {
        const len = e === "u" ? 4 : 8;
        const hex = text.slice(i + 2, i + 2 + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) {
          throw syntaxError(text, i, "Invalid unicode escape");
        }
        s += String.fromCodePoint(parseInt(hex, 16));
        i += 2 + len;
        continue;
      }
      if (e !== undefined && e in ESCAPES) {
        s += ESCAPES[e];
        i += 2;
        continue;
      }
      throw syntaxError(text, i, `Invalid escape sequence '\\${e ?? ""}'`);
    }
    s += c;
    i++;
  }
  return { kind: "string", text: s, offset: start, end: i };
}
