// coverage-summary: how much of the model x dataset matrix is observed, in one row.
OPTIONAL MATCH (m:Model)
WITH count(m) AS models
OPTIONAL MATCH (d:Dataset)
WITH models, count(d) AS datasets
OPTIONAL MATCH (:Model)-[t:TRANSFERS_TO]->(:Dataset)
WITH models, datasets, count(t) AS observed
RETURN models, datasets, observed, models * datasets AS pairs,
       CASE WHEN models * datasets = 0 THEN 0.0
            ELSE toFloat(observed) / (models * datasets) END AS coverage
