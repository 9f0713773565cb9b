// read-observed: the observed accuracies from the named models (a block of the matrix).
// One row per model with its datasets and accuracies as lists: a fraction of the rows to
// send and parse, and no lookup per dataset.
// @param models list  model names
UNWIND $models AS name
MATCH (m:Model {name: name})-[t:TRANSFERS_TO]->(d:Dataset)
RETURN m.name AS model, collect(d.name) AS datasets, collect(t.accuracy) AS accuracy
