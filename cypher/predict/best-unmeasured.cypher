// best-unmeasured: for every dataset, its best predicted model and its best measured accuracy.
// What `graphrec suggest --budget N` without a dataset ranks: one candidate run per dataset.
// It starts from the predictor index alone, with no end bound: FalkorDB's relationship index
// loses the edges of the node with id 0 after a restart when an end is bound
// (tests/test_falkordb_index_bug.py).
// @param predictor string = null  the predictor's id
// @param version string = null  its complete prediction version
MATCH ()-[p:PREDICTED {predictor: $predictor}]->()
WITH startNode(p) AS m, p, endNode(p) AS d
WHERE m:Model AND d:Dataset AND ($version IS NULL OR p.version = $version)
WITH d, m, p
ORDER BY p.score DESC, m.name ASC
WITH d, collect({model: m.name, score: p.score, low: p.low, high: p.high})[0] AS top
OPTIONAL MATCH (:Model)-[t:TRANSFERS_TO]->(d)
WITH d, top, max(t.accuracy) AS best, count(t) AS measured
RETURN d.name AS dataset, top.model AS model, top.score AS score, top.low AS low,
       top.high AS high, best AS best_measured, measured
ORDER BY dataset
