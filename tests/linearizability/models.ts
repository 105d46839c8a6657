/**
 * Sequential specifications the checker tests histories against. A model's
 * `step` says whether `input` with `output` is a legal next operation from
 * `state`, and the state after it. `output === undefined` means the client
 * never heard back, so any output is acceptable.
 * @module
 */

/** A sequential specification. States must be JSON-serialisable (they are memoised). */
export interface Model<S, I, O> {
  name: string;
  init(): S;
  step(state: S, input: I, output: O | undefined): [ok: boolean, next: S];
  describe(input: I, output: O | undefined): string;
}

/** Redis string-register operations. */
export type RegisterInput =
  | { op: "set"; value: string }
  | { op: "get" }
  | { op: "del" }
  | { op: "incr" };

/** GET: the value or null; DEL: keys removed (0/1); SET: "OK"; INCR: the new value. */
export type RegisterOutput = string | number | null;

/** A Redis string key under SET / GET / DEL / INCR. */
export const registerModel: Model<string | null, RegisterInput, RegisterOutput> = {
  name: "register",
  init: () => null,
  step(state, input, output) {
    switch (input.op) {
      case "set":
        return [output === undefined || output === "OK", input.value];
      case "get":
        return [output === undefined || output === state, state];
      case "del":
        return [output === undefined || output === (state === null ? 0 : 1), null];
      case "incr": {
        const next = (state === null ? 0 : Number(state)) + 1;
        if (state !== null && !/^-?\d+$/.test(state)) return [false, state];
        return [output === undefined || output === next, String(next)];
      }
    }
  },
  describe(input, output) {
    const arg = input.op === "set" ? ` ${JSON.stringify(input.value)}` : "";
    return `${input.op.toUpperCase()}${arg} -> ${
      output === undefined ? "?" : JSON.stringify(output)
    }`;
  },
};

/** Redis list operations: RPUSH returns the new length, LRANGE 0 -1 the whole list. */
export type ListInput = { op: "rpush"; value: string } | { op: "lrange" };
export type ListOutput = number | string[];

/** A Redis list under RPUSH / LRANGE 0 -1 (appends as a sequence). */
export const listModel: Model<string[], ListInput, ListOutput> = {
  name: "list",
  init: () => [],
  step(state, input, output) {
    if (input.op === "rpush") {
      const next = [...state, input.value];
      return [output === undefined || output === next.length, next];
    }
    const ok = output === undefined ||
      (Array.isArray(output) && output.length === state.length &&
        output.every((v, i) => v === state[i]));
    return [ok, state];
  },
  describe(input, output) {
    const arg = input.op === "rpush" ? ` ${JSON.stringify(input.value)}` : " 0 -1";
    return `${input.op.toUpperCase()}${arg} -> ${
      output === undefined ? "?" : JSON.stringify(output)
    }`;
  },
};
