// latest-predictor: the most recently trained predictor (the current one).
MATCH (p:Predictor)
RETURN properties(p) AS predictor
ORDER BY p.created_at DESC, p.id DESC
LIMIT 1
