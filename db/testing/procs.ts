/**
 * Child processes for the db benchmarks: spawn with output kept (the last
 * 20,000 characters), wait for a line, stop with SIGTERM then SIGKILL.
 * @module
 */

/** A running child and the tail of its output. */
export interface Proc {
  name: string;
  child: Deno.ChildProcess;
  out: string;
}

/** Starts `cmd args`, collecting stdout and stderr into `out`. */
export function spawnProc(name: string, cmd: string, args: string[]): Proc {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" })
    .spawn();
  const p: Proc = { name, child, out: "" };
  for (const s of [child.stdout, child.stderr]) {
    (async () => {
      const d = new TextDecoder();
      for await (const c of s) p.out = (p.out + d.decode(c)).slice(-20_000);
    })();
  }
  return p;
}

/** Waits until the output matches `re`; throws with the output after `timeout_ms`. */
export async function waitOut(p: Proc, re: RegExp, timeout_ms = 60_000): Promise<void> {
  const until = Date.now() + timeout_ms;
  while (!re.test(p.out)) {
    if (Date.now() > until) throw new Error(`${p.name} not ready:\n${p.out.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the child has exited. */
export async function stopProc(p: Proc): Promise<void> {
  try {
    p.child.kill("SIGTERM");
  } catch { /* gone */ }
  const t = setTimeout(() => {
    try {
      p.child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 5000);
  await p.child.status;
  clearTimeout(t);
}
