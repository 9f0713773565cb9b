// read-observed: the observed accuracies into the named datasets (a page of the matrix).
// Starts at each dataset: a dataset has at most one edge per model.
// @param datasets list  dataset names
UNWIND $datasets AS name
MATCH (d:Dataset {name: name})<-[t:TRANSFERS_TO]-(m:Model)
RETURN m.name AS model, d.name AS dataset, t.accuracy AS accuracy
