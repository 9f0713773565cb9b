// compare-scores: which of these proxy scores are already stored with exactly this value.
// Returns one row per (model, dataset, metric) that has a score; the others are new. The
// match starts at the dataset, as in compare-transfers.
// @param rows list  maps {model, dataset, metric, value}
UNWIND $rows AS row
MATCH (d:Dataset {name: row.dataset})<-[s:SCORED {metric: row.metric}]-(m)
WHERE m.name = row.model
RETURN row.model AS model, row.dataset AS dataset, row.metric AS metric,
       s.value = row.value AS same
