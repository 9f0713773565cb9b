// current-predictor: the predictor marked current (by train, predict or `predictors use`).
// Where none is marked (a database from before the mark), the most recently trained one.
MATCH (p:Predictor)
RETURN properties(p) AS predictor
ORDER BY CASE WHEN p.current = true THEN 0 ELSE 1 END, p.created_at DESC, p.id DESC
LIMIT 1
