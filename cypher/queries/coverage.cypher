// coverage: observed model-dataset pairs out of all pairs, per dataset, least covered first.
// @param k int = 50  how many datasets to return
OPTIONAL MATCH (m:Model)
WITH count(m) AS models
MATCH (d:Dataset)
OPTIONAL MATCH (:Model)-[t:TRANSFERS_TO]->(d)
WITH d, models, count(t) AS observed
RETURN d.name AS dataset, observed, models,
       CASE WHEN models = 0 THEN 0.0 ELSE toFloat(observed) / models END AS coverage
ORDER BY coverage ASC, dataset ASC
LIMIT $k
