// predicted: a predictor's scores from the named models, for `graphrec export`.
// One row per model, its edges as [dataset, score, low, high] lists.
// The predictor filter is written p['predictor'] so that FalkorDB walks the edges instead of
// asking its relationship index, which after a restart loses the edges of the node
// with id 0 when an end is bound (tests/test_falkordb_index_bug.py).
// @param models list  model names
// @param predictor string = null  the predictor's id
// @param version string = null  its complete prediction version
UNWIND $models AS name
MATCH (m:Model {name: name})-[p:PREDICTED]->(d:Dataset)
WHERE p['predictor'] = $predictor AND ($version IS NULL OR p.version = $version)
RETURN m.name AS model, collect([d.name, p.score, p.low, p.high]) AS edges
