// delete-predictor: remove a predictor's node (its predicted edges are cleared first).
// @param id string  the predictor's id
MATCH (p:Predictor {id: $id})
DELETE p
RETURN count(*) AS deleted
