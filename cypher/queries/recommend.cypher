// recommend: models ranked for a dataset, observed accuracy first-class, predictions beside it.
// Each row is marked observed (measured accuracy, with its runs, std, min and max) or
// predicted (score of the named predictor, with its calibrated interval low..high).
// `graphrec predictors list` names the predictors and their complete prediction versions.
// @param dataset string  the dataset's name
// @param predictor string = null  a predictor id (graphrec passes the current one)
// @param version string = null  its prediction version (graphrec passes the complete one)
// @param k int = 5  how many models to return
MATCH (d:Dataset {name: $dataset})
MATCH (m:Model)
OPTIONAL MATCH (m)-[t:TRANSFERS_TO]->(d)
OPTIONAL MATCH (m)-[p:PREDICTED {predictor: $predictor}]->(d)
WHERE $version IS NULL OR p.version = $version
WITH m, t, p
WHERE t IS NOT NULL OR p IS NOT NULL
RETURN m.name AS model, m.family AS family,
       CASE WHEN t IS NULL THEN 'predicted' ELSE 'observed' END AS source,
       coalesce(t.accuracy, p.score) AS score,
       CASE WHEN t IS NULL THEN p.low ELSE null END AS low,
       CASE WHEN t IS NULL THEN p.high ELSE null END AS high,
       t.runs AS runs, t.accuracy_std AS std, coalesce(t.accuracy_min, t.accuracy) AS min,
       coalesce(t.accuracy_max, t.accuracy) AS max,
       CASE WHEN t IS NULL THEN p.predictor ELSE null END AS predictor
ORDER BY score DESC, model ASC
LIMIT $k
