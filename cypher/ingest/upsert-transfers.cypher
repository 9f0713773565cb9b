// upsert-transfers: set the observed transferability of model-dataset pairs.
// The ingest states the truth for the pairs it names: their properties are replaced.
// Rows are [model, dataset, props] triples rather than maps: shorter to send and to parse.
// @param rows list  [model name, dataset name, {accuracy, runs, ...}] per pair
// @param now string  when this batch was written (ISO 8601), stored as updated_at
UNWIND $rows AS row
MATCH (m:Model {name: row[0]})
MATCH (d:Dataset {name: row[1]})
MERGE (m)-[t:TRANSFERS_TO]->(d)
SET t = row[2], t.updated_at = $now
