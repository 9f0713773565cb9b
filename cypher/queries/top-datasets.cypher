// top-datasets: the datasets a model transferred to best, by observed accuracy.
// @param model string  the model's name
// @param k int = 5  how many datasets to return
MATCH (m:Model {name: $model})-[t:TRANSFERS_TO]->(d:Dataset)
RETURN d.name AS dataset, d.domain AS domain, t.accuracy AS accuracy, t.runs AS runs
ORDER BY accuracy DESC, dataset ASC
LIMIT $k
