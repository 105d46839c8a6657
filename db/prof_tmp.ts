import { startEraftCluster, stopProc, type Proc } from "./testing/procs.ts";
const HZ = 100;
function sysTicks(pid: number): number {
  const s = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return Number(f[12]);
}
function cpuTicks(pid: number): number {
  const s = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}
async function bench(port: number, test: string, c: number, n: number, P = 1) {
  const o = await new Deno.Command("redis-benchmark", {
    args: ["-p", String(port), "-t", test, "-c", String(c), "-n", String(n), "-r", "100000", "-P", String(P), "--csv"],
  }).output();
  const out = new TextDecoder().decode(o.stdout);
  const line = out.trim().split("\n").pop()!;
  return Number(line.split(",")[1].replaceAll('"', ""));
}
const dir = Deno.makeTempDirSync();
const procs: Proc[] = [];
try {
  const port = await startEraftCluster(dir, procs);
  await bench(port, "set", 10, 2000);
  const cases = (Deno.args[0] ?? "set:50:6000,get:50:20000,get:1:2000,set:1:500").split(",");
  for (const cs of cases) {
    const [t, c, n, P] = cs.split(":");
    const info0 = await infoStats(port);
    const before = procs.map((p) => cpuTicks(p.child.pid));
    const sys0 = procs.map((p) => sysTicks(p.child.pid));
    const t0 = performance.now();
    const rps = await bench(port, t, Number(c), Number(n), Number(P ?? 1));
    const secs = (performance.now() - t0) / 1000;
    const after = procs.map((p) => cpuTicks(p.child.pid));
    const sys1 = procs.map((p) => sysTicks(p.child.pid));
    console.log("sys share:", procs.map((p, i) => `${p.name}=${((sys1[i] - sys0[i]) / Math.max(1, after[i] - before[i]) * 100).toFixed(0)}%`).join(" "));
    const per = procs.map((p, i) => `${p.name}=${((after[i] - before[i]) / HZ * 1e6 / Number(n)).toFixed(0)}us(${((after[i] - before[i]) / HZ / secs * 100).toFixed(0)}%)`);
    const info1 = await infoStats(port);
    console.log(Object.entries(info1).map(([k, v]) => `${k}+${v - (info0[k] ?? 0)}`).join(" "));
    console.log(`${t} c=${c} P=${P ?? 1}: ${rps}/s  cpu/op: ${per.join(" ")}`);
  }
  if (Deno.env.get("HOLD")) await new Promise((r) => setTimeout(r, Number(Deno.env.get("HOLD"))));
} finally {
  for (const p of procs.reverse()) await stopProc(p);
  Deno.removeSync(dir, { recursive: true });
}

async function infoStats(port: number): Promise<Record<string, number>> {
  const o = await new Deno.Command("redis-cli", { args: ["-p", String(port), "INFO", "cluster"] }).output();
  const out: Record<string, number> = {};
  for (const l of new TextDecoder().decode(o.stdout).split("\n")) {
    const m = l.trim().match(/^(eraft_[a-z_]+):(\d+)$/);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}
