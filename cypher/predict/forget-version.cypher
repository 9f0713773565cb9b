// forget-version: a predictor whose predictions were all removed has no version to read.
// @param id string  the predictor's id
MATCH (p:Predictor {id: $id})
SET p.version = null, p.predicted = 0, p.predicted_at = null
RETURN p.id AS id
