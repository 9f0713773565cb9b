// read-scores: the proxy transferability scores (LogME, LEEP, ...) into the named datasets.
// Starts at each dataset, like read-observed.
// @param datasets list  dataset names
UNWIND $datasets AS name
MATCH (d:Dataset {name: name})<-[s:SCORED]-(m:Model)
RETURN m.name AS model, d.name AS dataset, s.metric AS metric, s.value AS value
