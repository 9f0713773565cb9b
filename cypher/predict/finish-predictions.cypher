// finish-predictions: record a complete version of predictions and make its predictor current.
// One statement: a killed `predict` never gets here, so the previous version stays the one
// that is read.
// @param id string  the predictor's id
// @param version string  the version just written in full
// @param now string  when it was finished (ISO 8601)
// @param count int  how many predicted edges the version holds
// @param top_k int = null  the per-dataset cut it was written with (null: every pair)
MATCH (p:Predictor {id: $id})
SET p.version = $version, p.predicted_at = $now, p.predicted = $count, p.top_k = $top_k
WITH p
MATCH (q:Predictor)
SET q.current = (q.id = $id)
RETURN count(q) AS predictors
