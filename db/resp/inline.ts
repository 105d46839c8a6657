/**
 * Splitting of inline commands, as Redis's sdssplitargs: whitespace-separated
 * words, "double quotes" with \n \r \t \b \a \xHH escapes, 'single quotes'
 * with \' only. A closing quote must be followed by whitespace or the end.
 * @module
 */

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

const ESCAPES: Record<number, number> = {
  0x6e: 0x0a,
  0x72: 0x0d,
  0x74: 0x09,
  0x62: 0x08,
  0x61: 0x07,
};

/** Splits one inline line into arguments; null on unbalanced quotes. */
export function splitInlineArgs(line: Uint8Array): Uint8Array[] | null {
  // C string semantics: a NUL byte ends the line.
  const nul = line.indexOf(0);
  const end = nul < 0 ? line.length : nul;
  const at = (i: number) => (i < end ? line[i] : 0);
  const out: Uint8Array[] = [];
  let p = 0;
  for (;;) {
    while (p < end && isSpace(line[p])) p++;
    if (p >= end) return out;
    const cur: number[] = [];
    let inq = false, insq = false, done = false;
    while (!done) {
      const c = at(p);
      if (inq) {
        if (c === 0x5c && at(p + 1) === 0x78 && hexVal(at(p + 2)) >= 0 && hexVal(at(p + 3)) >= 0) {
          cur.push(hexVal(at(p + 2)) * 16 + hexVal(at(p + 3)));
          p += 3;
        } else if (c === 0x5c && p + 1 < end) {
          p++;
          cur.push(ESCAPES[at(p)] ?? at(p));
        } else if (c === 0x22) {
          if (p + 1 < end && !isSpace(at(p + 1))) return null;
          done = true;
        } else if (p >= end) {
          return null;
        } else cur.push(c);
      } else if (insq) {
        if (c === 0x5c && at(p + 1) === 0x27) {
          p++;
          cur.push(0x27);
        } else if (c === 0x27) {
          if (p + 1 < end && !isSpace(at(p + 1))) return null;
          done = true;
        } else if (p >= end) {
          return null;
        } else cur.push(c);
      } else if (p >= end || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        done = true;
      } else if (c === 0x22) inq = true;
      else if (c === 0x27) insq = true;
      else cur.push(c);
      if (p < end) p++;
    }
    out.push(Uint8Array.from(cur));
  }
}
