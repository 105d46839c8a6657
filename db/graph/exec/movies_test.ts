/**
 * Queries from the Cypher tutorials on the movie graph (testdata/movies.cypher).
 * Expected tables were worked out by hand from the data file.
 */
import assert from "node:assert/strict";
import { explainQuery } from "./mod.ts";
import { column, moviesGraph, rows, run } from "./test_support.ts";

const g = await moviesGraph();

Deno.test("movies: the data set loads with the documented sizes", async () => {
  assert.deepEqual(await rows(g, "MATCH (m:Movie) RETURN count(m)"), [[38]]);
  assert.deepEqual(await rows(g, "MATCH (p:Person) RETURN count(p)"), [[133]]);
  assert.deepEqual(
    await rows(g, "MATCH ()-[r]->() RETURN type(r) AS t, count(*) ORDER BY t"),
    [["ACTED_IN", 172], ["DIRECTED", 44], ["FOLLOWS", 3], ["PRODUCED", 15], ["REVIEWED", 9], [
      "WROTE",
      10,
    ]],
  );
});

Deno.test("movies: Keanu's movies ordered by year", async () => {
  assert.deepEqual(
    await rows(
      g,
      "MATCH (k:Person {name:'Keanu Reeves'})-[:ACTED_IN]->(m) " +
        "RETURN m.title, m.released ORDER BY m.released, m.title",
    ),
    [
      ["Johnny Mnemonic", 1995],
      ["The Devil's Advocate", 1997],
      ["The Matrix", 1999],
      ["The Replacements", 2000],
      ["Something's Gotta Give", 2003],
      ["The Matrix Reloaded", 2003],
      ["The Matrix Revolutions", 2003],
    ],
  );
});

Deno.test("movies: Tom Hanks' co-actors", async () => {
  const co = await column(
    g,
    "MATCH (tom:Person {name:'Tom Hanks'})-[:ACTED_IN]->(m)<-[:ACTED_IN]-(co) " +
      "RETURN DISTINCT co.name ORDER BY co.name",
  );
  assert.equal(co.length, 34);
  assert.deepEqual(co.slice(0, 5), [
    "Audrey Tautou",
    "Bill Paxton",
    "Bill Pullman",
    "Bonnie Hunt",
    "Charlize Theron",
  ]);
  assert.ok(co.includes("Meg Ryan") && co.includes("Kevin Bacon") && co.includes("Madonna"));
  assert.ok(!co.includes("Tom Hanks"), "relationship uniqueness keeps Tom out of his co-actors");
  // Without DISTINCT, Meg Ryan appears once per shared movie (3).
  assert.deepEqual(
    await rows(
      g,
      "MATCH (:Person {name:'Tom Hanks'})-[:ACTED_IN]->(m)<-[:ACTED_IN]-(co {name:'Meg Ryan'}) " +
        "RETURN m.title ORDER BY m.title",
    ),
    [["Joe Versus the Volcano"], ["Sleepless in Seattle"], ["You've Got Mail"]],
  );
});

Deno.test("movies: movies released in the 90s", async () => {
  const titles = await column(
    g,
    "MATCH (m:Movie) WHERE m.released >= 1990 AND m.released < 2000 " +
      "RETURN m.title ORDER BY m.released, m.title",
  );
  assert.deepEqual(titles, [
    "Joe Versus the Volcano",
    "A Few Good Men",
    "A League of Their Own",
    "Hoffa",
    "Unforgiven",
    "Sleepless in Seattle",
    "Apollo 13",
    "Johnny Mnemonic",
    "That Thing You Do",
    "The Birdcage",
    "Twister",
    "As Good as It Gets",
    "The Devil's Advocate",
    "What Dreams May Come",
    "When Harry Met Sally",
    "You've Got Mail",
    "Bicentennial Man",
    "Snow Falling on Cedars",
    "The Green Mile",
    "The Matrix",
  ]);
});

Deno.test("movies: most prolific actors (aggregate, ORDER BY alias, LIMIT)", async () => {
  assert.deepEqual(
    await rows(
      g,
      "MATCH (p:Person)-[:ACTED_IN]->(m) RETURN p.name, count(m) AS n ORDER BY n DESC, p.name LIMIT 5",
    ),
    [["Tom Hanks", 12], ["Keanu Reeves", 7], ["Hugo Weaving", 5], ["Jack Nicholson", 5], [
      "Meg Ryan",
      5,
    ]],
  );
});

Deno.test("movies: people who directed a movie they acted in", async () => {
  assert.deepEqual(
    await rows(
      g,
      "MATCH (d)-[:DIRECTED]->(m)<-[:ACTED_IN]-(d) RETURN d.name, m.title ORDER BY d.name",
    ),
    [["Clint Eastwood", "Unforgiven"], ["Danny DeVito", "Hoffa"], [
      "Tom Hanks",
      "That Thing You Do",
    ]],
  );
});

Deno.test("movies: reviews with relationship properties", async () => {
  assert.deepEqual(
    await rows(
      g,
      "MATCH (:Person {name:'Jessica Thompson'})-[r:REVIEWED]->(m) " +
        "RETURN m.title, r.rating ORDER BY r.rating DESC",
    ),
    [
      ["Cloud Atlas", 95],
      ["Jerry Maguire", 92],
      ["Unforgiven", 85],
      ["The Da Vinci Code", 68],
      ["The Replacements", 65],
      ["The Birdcage", 45],
    ],
  );
  // OPTIONAL MATCH keeps unreviewed movies with count 0 and avg null.
  const r = await rows(
    g,
    "MATCH (m:Movie) OPTIONAL MATCH (m)<-[r:REVIEWED]-() " +
      "RETURN m.title, count(r) AS reviews, avg(r.rating) AS avg ORDER BY reviews DESC, m.title",
  );
  assert.equal(r.length, 38);
  assert.deepEqual(r[0], ["The Replacements", 3, (65 + 100 + 62) / 3]);
  assert.deepEqual(r[1], ["The Da Vinci Code", 2, 66.5]);
  assert.deepEqual(r[37], ["You've Got Mail", 0, null]);
});

Deno.test("movies: 2-hop co-co-actors and variable-length FOLLOWS", async () => {
  assert.deepEqual(
    await column(g, "MATCH (:Person {name:'Paul Blythe'})-[:FOLLOWS*]->(b) RETURN b.name"),
    ["Angela Scope", "Jessica Thompson"],
  );
  assert.deepEqual(
    await column(g, "MATCH (:Person {name:'Paul Blythe'})-[:FOLLOWS*2]->(b) RETURN b.name"),
    ["Jessica Thompson"],
  );
  // Actors two ACTED_IN hops away from Keanu through The Devil's Advocate: Charlize -> TTYD.
  assert.deepEqual(
    await rows(
      g,
      "MATCH (:Person {name:'Keanu Reeves'})-[:ACTED_IN]->(:Movie {title:\"The Devil's Advocate\"})" +
        "<-[:ACTED_IN]-(c)-[:ACTED_IN]->(m2) RETURN c.name, m2.title ORDER BY c.name, m2.title",
    ),
    [["Charlize Theron", "That Thing You Do"]],
  );
});

Deno.test("movies: Bacon path exists within 4 hops of Meg Ryan; shortest is 4 edges", async () => {
  assert.deepEqual(
    await rows(
      g,
      "MATCH p = (:Person {name:'Kevin Bacon'})-[*1..4]-(:Person {name:'Meg Ryan'}) " +
        "RETURN min(length(p))",
    ),
    [[4]],
  );
  assert.deepEqual(
    await rows(
      g,
      "MATCH (:Person {name:'Kevin Bacon'})-[*1..3]-(h:Person {name:'Meg Ryan'}) RETURN count(*)",
    ),
    [[0]],
  );
});

Deno.test("movies: people without a birth year, and movies without a tagline", async () => {
  assert.deepEqual(
    await column(g, "MATCH (p:Person) WHERE p.born IS NULL RETURN p.name ORDER BY p.name"),
    ["Angela Scope", "James Thompson", "Jessica Thompson", "Naomie Harris", "Paul Blythe"],
  );
  assert.deepEqual(
    await column(g, "MATCH (m:Movie) WHERE NOT exists(m.tagline) RETURN m.title"),
    ["Something's Gotta Give"],
  );
});

Deno.test("movies: an index seek answers like the label scan", async () => {
  const q = "MATCH (p:Person {name:'Tom Hanks'})-[:DIRECTED]->(m) RETURN m.title";
  const before = await rows(g, q);
  const idx = await run(g, "CREATE INDEX FOR (p:Person) ON (p.name)");
  assert.equal(idx.stats.indices_created, 1);
  assert.deepEqual(await rows(g, q), before);
  assert.deepEqual(before, [["That Thing You Do"]]);
  await run(g, "DROP INDEX ON :Person(name)");
});

Deno.test("movies: WITH pipelines, collect and size", async () => {
  assert.deepEqual(
    await rows(
      g,
      "MATCH (d:Person)-[:DIRECTED]->(m:Movie) WITH d, collect(m.title) AS films " +
        "WHERE size(films) >= 3 RETURN d.name, size(films) AS n ORDER BY n DESC, d.name",
    ),
    [
      ["Lana Wachowski", 5],
      ["Lilly Wachowski", 5],
      ["Rob Reiner", 3],
      ["Ron Howard", 3],
    ],
  );
});

Deno.test("movies: recommend co-co-actors Tom Hanks has not worked with", async () => {
  assert.deepEqual(
    await rows(
      g,
      `MATCH (tom:Person {name:'Tom Hanks'})-[:ACTED_IN]->(m)<-[:ACTED_IN]-(coActors),
             (coActors)-[:ACTED_IN]->(m2)<-[:ACTED_IN]-(cocoActors)
       WHERE NOT (tom)-[:ACTED_IN]->()<-[:ACTED_IN]-(cocoActors) AND tom <> cocoActors
       RETURN cocoActors.name AS Recommended, count(*) AS Strength
       ORDER BY Strength DESC, Recommended LIMIT 4`,
    ),
    [["Tom Cruise", 5], ["Zach Grenier", 5], ["Cuba Gooding Jr.", 4], ["Keanu Reeves", 4]],
  );
});

Deno.test("movies: people who both directed and acted (pattern predicates)", async () => {
  assert.deepEqual(
    await column(
      g,
      "MATCH (p:Person) WHERE exists((p)-[:DIRECTED]->()) AND (p)-[:ACTED_IN]->() " +
        "RETURN p.name ORDER BY p.name",
    ),
    ["Clint Eastwood", "Danny DeVito", "James Marshall", "Tom Hanks", "Werner Herzog"],
  );
});

Deno.test("movies: a range index seek answers like the label scan", async () => {
  const q = "MATCH (m:Movie) WHERE m.released >= 1990 AND m.released < 2000 RETURN m.title " +
    "ORDER BY m.released, m.title";
  const before = await column(g, q);
  assert.equal(before.length, 20);
  await run(g, "CREATE INDEX ON :Movie(released)");
  const t = g.transaction();
  assert.ok(
    (await explainQuery(t, q)).some((l) => l.includes("Node By Index Range Scan | (m:Movie)")),
  );
  assert.deepEqual(await column(g, q), before);
  assert.deepEqual(
    await column(g, "MATCH (m:Movie) WHERE 2008 < m.released RETURN m.title ORDER BY m.title"),
    ["Cloud Atlas", "Ninja Assassin"],
  );
  await run(g, "DROP INDEX ON :Movie(released)");
});

Deno.test("movies: IN on an indexed property seeks each element", async () => {
  const q =
    "MATCH (p:Person) WHERE p.name IN ['Tom Hanks', 'Meg Ryan', 'Nobody', null, 'Tom Hanks'] " +
    "RETURN p.born ORDER BY p.born";
  const before = await column(g, q);
  assert.deepEqual(before, [1956, 1961]);
  await run(g, "CREATE INDEX ON :Person(name)");
  assert.ok(
    (await explainQuery(g.transaction(), q)).some((l) =>
      l.includes("Node By Index Scan | (p:Person)")
    ),
  );
  assert.deepEqual(await column(g, q), before);
  await assert.rejects(run(g, "MATCH (p:Person) WHERE p.name IN 5 RETURN p"), /Type mismatch/);
  await run(g, "DROP INDEX ON :Person(name)");
});

Deno.test("movies: shortestPath and allShortestPaths from Kevin Bacon to Meg Ryan", async () => {
  const names = "[n IN nodes(p) | coalesce(n.name, n.title)]";
  assert.deepEqual(
    await rows(
      g,
      `MATCH p = shortestPath((:Person {name:'Kevin Bacon'})-[*]-(:Person {name:'Meg Ryan'})) RETURN length(p)`,
    ),
    [[4]],
  );
  // Over every relationship type: via Tom Cruise (1), Tom Hanks (3 movies with Meg) and
  // Rob Reiner (directed A Few Good Men; directed and produced When Harry Met Sally).
  assert.deepEqual(
    await rows(
      g,
      `MATCH p = allShortestPaths((:Person {name:'Kevin Bacon'})-[*]-(:Person {name:'Meg Ryan'}))
       RETURN count(p), max(length(p))`,
    ),
    [[6, 4]],
  );
  assert.deepEqual(
    await column(
      g,
      `MATCH p = allShortestPaths((:Person {name:'Kevin Bacon'})-[:ACTED_IN*]-(:Person {name:'Meg Ryan'}))
       RETURN ${names} AS x ORDER BY x`,
    ),
    [
      ["Kevin Bacon", "A Few Good Men", "Tom Cruise", "Top Gun", "Meg Ryan"],
      ["Kevin Bacon", "Apollo 13", "Tom Hanks", "Joe Versus the Volcano", "Meg Ryan"],
      ["Kevin Bacon", "Apollo 13", "Tom Hanks", "Sleepless in Seattle", "Meg Ryan"],
      ["Kevin Bacon", "Apollo 13", "Tom Hanks", "You've Got Mail", "Meg Ryan"],
    ],
  );
  assert.deepEqual(
    await rows(
      g,
      "MATCH p = shortestPath((:Person {name:'Kevin Bacon'})-[*..3]-(:Person {name:'Meg Ryan'})) RETURN p",
    ),
    [],
  );
});
