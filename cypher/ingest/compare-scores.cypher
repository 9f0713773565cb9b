// compare-scores: which of these proxy scores are already stored with exactly this value.
// Returns one row per (model, dataset, metric) that has a score; the others are new. The
// match starts at the dataset, as in compare-transfers.
// The metric filter is written s['metric'] so that FalkorDB walks the edges instead of
// asking its relationship index, which after a restart loses the edges of the node
// with id 0 when an end is bound (tests/test_falkordb_index_bug.py).
// @param rows list  maps {model, dataset, metric, value}
UNWIND $rows AS row
MATCH (d:Dataset {name: row.dataset})<-[s:SCORED]-(m)
WHERE m.name = row.model AND s['metric'] = row.metric
RETURN row.model AS model, row.dataset AS dataset, row.metric AS metric,
       s.value = row.value AS same
