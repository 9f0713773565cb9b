// top-models-by-score: the models a proxy score ranks highest for a dataset.
// Proxy scores are LogME, LEEP, NCE, H-Score or your own (SCORED edges); each row also
// gives the model's observed accuracy on the dataset where one is known.
// The metric filter is written s['metric'] so that FalkorDB walks the edges instead of
// asking its relationship index, which after a restart loses the edges of the node
// with id 0 when an end is bound (tests/test_falkordb_index_bug.py).
// @param dataset string  the dataset's name
// @param metric string  the score's metric name, as stored on the SCORED edges
// @param k int = 5  how many models to return
MATCH (m:Model)-[s:SCORED]->(d:Dataset {name: $dataset})
WHERE s['metric'] = $metric
OPTIONAL MATCH (m)-[t:TRANSFERS_TO]->(d)
RETURN m.name AS model, m.family AS family, s.value AS score, t.accuracy AS accuracy
ORDER BY score DESC, model ASC
LIMIT $k
