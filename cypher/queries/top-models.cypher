// top-models: the models that transferred best to a dataset, by observed accuracy.
// @param dataset string  the dataset's name
// @param k int = 5  how many models to return
MATCH (m:Model)-[t:TRANSFERS_TO]->(d:Dataset {name: $dataset})
RETURN m.name AS model, m.family AS family, t.accuracy AS accuracy, t.runs AS runs
ORDER BY accuracy DESC, model ASC
LIMIT $k
