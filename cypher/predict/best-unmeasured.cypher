// best-unmeasured: for every dataset, its best predicted model and its best measured accuracy.
// What `graphrec suggest --budget N` without a dataset ranks: one candidate run per dataset.
// @param predictor string = null  the predictor's id
// @param version string = null  its complete prediction version
MATCH (m:Model)-[p:PREDICTED {predictor: $predictor}]->(d:Dataset)
WHERE $version IS NULL OR p.version = $version
WITH d, m, p
ORDER BY p.score DESC, m.name ASC
WITH d, collect({model: m.name, score: p.score, low: p.low, high: p.high})[0] AS top
OPTIONAL MATCH (:Model)-[t:TRANSFERS_TO]->(d)
WITH d, top, max(t.accuracy) AS best, count(t) AS measured
RETURN d.name AS dataset, top.model AS model, top.score AS score, top.low AS low,
       top.high AS high, best AS best_measured, measured
ORDER BY dataset
