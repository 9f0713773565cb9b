// write-predictions: store predicted scores for pairs that have no observed edge.
// An observed TRANSFERS_TO edge is never replaced: pairs that have one are skipped here.
// @param rows list  [model name, dataset name, score] triples
// @param predictor string  the predictor's id
// @param now string  when the prediction was made (ISO 8601)
UNWIND $rows AS row
MATCH (m:Model {name: row[0]})
MATCH (d:Dataset {name: row[1]})
WHERE NOT (m)-[:TRANSFERS_TO]->(d)
MERGE (m)-[p:PREDICTED {predictor: $predictor}]->(d)
SET p.score = row[2], p.predicted_at = $now
