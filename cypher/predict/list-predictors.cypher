// list-predictors: every trained predictor, newest first.
MATCH (p:Predictor)
RETURN properties(p) AS predictor
ORDER BY p.created_at DESC, p.id DESC
