// clear-predictions: delete up to `limit` predicted edges of one predictor.
// All of them, or all but one version; run until it deletes fewer than `limit`.
// @param predictor string  the predictor's id
// @param keep string = null  a version to keep (null: delete every version)
// @param limit int = 50000  how many to delete in one statement
MATCH ()-[p:PREDICTED {predictor: $predictor}]->()
WHERE $keep IS NULL OR coalesce(p.version, '') <> $keep
WITH p LIMIT $limit
DELETE p
RETURN count(*) AS deleted
