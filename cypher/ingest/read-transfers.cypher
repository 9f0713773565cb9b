// read-transfers: the observed edges into the named datasets (to skip unchanged ones).
// @param datasets list  dataset names
UNWIND $datasets AS name
MATCH (d:Dataset {name: name})
MATCH (m:Model)-[t:TRANSFERS_TO]->(d)
RETURN m.name AS model, d.name AS dataset, properties(t) AS props
