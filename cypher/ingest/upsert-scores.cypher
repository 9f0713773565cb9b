// upsert-scores: set proxy transferability scores (LogME, LEEP, ...), one edge per metric.
// @param rows list  maps {model, dataset, metric, value}
// @param now string  when this batch was written (ISO 8601), stored as updated_at
UNWIND $rows AS row
MATCH (m:Model {name: row.model})
MATCH (d:Dataset {name: row.dataset})
MERGE (m)-[s:SCORED {metric: row.metric}]->(d)
SET s.value = row.value, s.updated_at = $now
