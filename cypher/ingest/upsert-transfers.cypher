// upsert-transfers: set the observed transferability of model-dataset pairs.
// The ingest states the truth for the pairs it names: their properties are replaced.
// @param rows list  maps {model, dataset, props: {accuracy, runs, accuracy_std, ...}}
UNWIND $rows AS row
MATCH (m:Model {name: row.model})
MATCH (d:Dataset {name: row.dataset})
MERGE (m)-[t:TRANSFERS_TO]->(d)
SET t = row.props
