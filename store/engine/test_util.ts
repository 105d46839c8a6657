/**
 * Helpers for the engine's tests: temp dirs that are always removed, and
 * string <-> bytes shorthands.
 * @module
 */

/** Runs `fn` with a fresh temp dir, removed afterwards even on failure. */
export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = Deno.makeTempDirSync({ prefix: "eraft-engine-" });
  try {
    return fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** UTF-8 bytes of `s`. */
export function b(s: string): Uint8Array {
  return enc.encode(s);
}

/** `bytes` as a UTF-8 string (undefined passes through). */
export function s(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : dec.decode(bytes);
}

/** Copies every file of `from` into `to` (a crash image to mutate). */
export function copyDir(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) {
    if (e.isFile) Deno.copyFileSync(`${from}/${e.name}`, `${to}/${e.name}`);
  }
}
