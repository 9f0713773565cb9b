// read-scores: the proxy scores into the named datasets (to skip unchanged ones).
// @param datasets list  dataset names
UNWIND $datasets AS name
MATCH (d:Dataset {name: name})
MATCH (m:Model)-[s:SCORED]->(d)
RETURN m.name AS model, d.name AS dataset, s.metric AS metric, s.value AS value
