// read-scores: the proxy transferability scores (LogME, LEEP, ...) from the named models.
// Like read-observed: one row per model and metric, with lists.
// @param models list  model names
UNWIND $models AS name
MATCH (m:Model {name: name})-[s:SCORED]->(d:Dataset)
RETURN m.name AS model, s.metric AS metric, collect(d.name) AS datasets,
       collect(s.value) AS values
