import assert from "node:assert/strict";
import { goals, type Row } from "./bench_report.ts";

const row = (suite: Row["suite"], config: string, system: string, ops_per_s: number): Row => ({
  suite,
  config,
  system,
  ops_per_s,
  p50_ms: null,
  p99_ms: null,
});

Deno.test("bench goals compare with the best reference rate of the run", () => {
  const rows = [
    row("store", "put c=16", "etcd", 1000),
    row("store", "put c=64", "etcd", 2000),
    row("store", "get c=64", "etcd", 9000),
    row("db", "SET c=50", "eraft", 3100),
    row("db", "GET c=50", "eraft", 12000),
    row("db", "GET c=50", "redis appendfsync always", 38000),
    row("db", "GET c=50", "redis no persistence", 41000),
  ];
  const [set, get] = goals(rows);
  assert.equal(set.reference, "etcd put c=64", "the faster etcd put, not its get");
  assert.equal(set.ratio, 1.55);
  assert.equal(set.met, true);
  assert.equal(get.reference, "redis no persistence GET c=50");
  assert.equal(get.met, false, "12000 / 41000 is under 0.3");
});

Deno.test("bench goals skip a goal whose rows are missing", () => {
  assert.deepEqual(goals([row("db", "SET c=50", "eraft", 3000)]), []);
});

Deno.test("the SET goal's etcd reference is the best put of either suite", () => {
  const rows = [
    row("store", "put c=64", "etcd", 2000),
    row("store", "get c=64", "etcd", 9000),
    row("db", "SET c=50", "eraft", 3000),
    row("db", "SET c=50", "etcd", 2400),
  ];
  const [set] = goals(rows);
  assert.equal(set.reference, "etcd SET c=50", "the db suite's same-round etcd puts were faster");
  assert.equal(set.ratio, 1.25);
  assert.equal(set.met, false);
  const [alone] = goals(rows.filter((r) => r.suite === "db"));
  assert.equal(alone.reference_ops_per_s, 2400, "the db suite alone carries its reference");
});
