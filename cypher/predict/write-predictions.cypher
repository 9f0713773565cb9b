// write-predictions: store predicted scores, as one version of one predictor's predictions.
// An observed TRANSFERS_TO edge is never replaced: pairs that have one are skipped here.
// A version is only read once `finish-predictions` has recorded it as complete.
// @param rows list  [model name, dataset name, score, low, high]: low and high bound the
//   predictor's calibrated interval (null for a predictor trained without intervals)
// @param predictor string  the predictor's id
// @param version string  this prediction run's id
// @param now string  when the prediction was made (ISO 8601)
UNWIND $rows AS row
MATCH (m:Model {name: row[0]})
MATCH (d:Dataset {name: row[1]})
WHERE NOT (m)-[:TRANSFERS_TO]->(d)
CREATE (m)-[:PREDICTED {predictor: $predictor, version: $version, score: row[2],
                         low: row[3], high: row[4], predicted_at: $now}]->(d)
