// set-current: make one predictor the current one; every other one stops being current.
// The current one is what recommend, predict and cold start use unless told otherwise.
// @param id string  the predictor's id
MATCH (q:Predictor)
SET q.current = (q.id = $id)
RETURN sum(CASE WHEN q.id = $id THEN 1 ELSE 0 END) AS found
