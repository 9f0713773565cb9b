// observed: the measured accuracies from the named models, for `graphrec export`.
// One row per model, its edges as [dataset, accuracy, runs, std] lists (collect() would
// drop the nulls of a list per property and misalign them).
// @param models list  model names
UNWIND $models AS name
MATCH (m:Model {name: name})-[t:TRANSFERS_TO]->(d:Dataset)
RETURN m.name AS model,
       collect([d.name, t.accuracy, coalesce(t.runs, 1), t.accuracy_std]) AS edges
