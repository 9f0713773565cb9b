// clear-predictions: delete up to `limit` predicted edges of one predictor (run until 0).
// @param predictor string  the predictor's id
// @param limit int = 50000  how many to delete in one statement
MATCH ()-[p:PREDICTED {predictor: $predictor}]->()
WITH p LIMIT $limit
DELETE p
RETURN count(*) AS deleted
