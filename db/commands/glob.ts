/**
 * Glob matching on bytes, as Redis's stringmatchlen: `*`, `?`, `[abc]`,
 * `[^a-z]`, and `\` escapes.
 * @module
 */

/** True when `s` matches `pattern`. Bounded: backtracking depth is limited. */
export function globMatch(pattern: Uint8Array, s: Uint8Array): boolean {
  return match(pattern, 0, s, 0, 0);
}

function match(p: Uint8Array, pi: number, s: Uint8Array, si: number, depth: number): boolean {
  if (depth > 1000) return false; // Redis bounds nesting too (CVE-2022-36021)
  while (pi < p.length) {
    const c = p[pi];
    if (c === 0x2a /* * */) {
      while (pi + 1 < p.length && p[pi + 1] === 0x2a) pi++;
      if (pi + 1 === p.length) return true;
      for (let k = si; k <= s.length; k++) {
        if (match(p, pi + 1, s, k, depth + 1)) return true;
      }
      return false;
    }
    if (si >= s.length) return false;
    if (c === 0x3f /* ? */) {
      si++;
      pi++;
      continue;
    }
    if (c === 0x5b /* [ */) {
      const r = matchClass(p, pi + 1, s[si]);
      if (!r.ok) return false;
      pi = r.next;
      si++;
      continue;
    }
    let lit = c;
    if (c === 0x5c /* \ */ && pi + 1 < p.length) lit = p[++pi];
    if (lit !== s[si]) return false;
    pi++;
    si++;
  }
  return si === s.length;
}

function matchClass(p: Uint8Array, pi: number, ch: number): { ok: boolean; next: number } {
  const not = p[pi] === 0x5e; /* ^ */
  if (not) pi++;
  let hit = false;
  for (;;) {
    if (pi >= p.length) {
      pi--; // Redis: an unterminated class ends at the pattern's end
      break;
    }
    const c = p[pi];
    if (c === 0x5c && pi + 2 < p.length) {
      pi++;
      if (p[pi] === ch) hit = true;
    } else if (c === 0x5d /* ] */) {
      break;
    } else if (pi + 2 < p.length && p[pi + 1] === 0x2d /* - */) {
      let lo = c, hi = p[pi + 2];
      if (lo > hi) [lo, hi] = [hi, lo];
      if (ch >= lo && ch <= hi) hit = true;
      pi += 2;
    } else if (c === ch) hit = true;
    pi++;
  }
  return { ok: not ? !hit : hit, next: pi + 1 };
}
