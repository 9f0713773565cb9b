// score-agreement: how well a proxy score ranks each dataset's models.
// Per dataset, Kendall's tau-a between the score and the observed accuracies over the
// models that have both (1: the same order, -1: reversed; ties count as neither), and
// whether the score's top model is the best observed one. Datasets with fewer than
// `min_models` such models are left out.
// It starts from the metric index alone, with no end bound: FalkorDB's relationship index
// loses the edges of the node with id 0 after a restart when an end is bound
// (tests/test_falkordb_index_bug.py).
// @param metric string  the score's metric name, as stored on the SCORED edges
// @param min_models int = 3  the fewest models with both a score and an accuracy
// @param limit int = 1000  how many datasets to return, worst agreement first
MATCH ()-[s:SCORED {metric: $metric}]->()
WITH startNode(s) AS m, s, endNode(s) AS d
WHERE m:Model AND d:Dataset
MATCH (m)-[t:TRANSFERS_TO]->(d)
WITH d, collect({model: m.name, score: s.value, accuracy: t.accuracy}) AS rows
WHERE size(rows) >= $min_models
WITH d, rows, size(rows) AS n,
     reduce(best = rows[0], r IN rows | CASE WHEN r.score > best.score THEN r ELSE best END)
       AS by_score,
     reduce(best = rows[0], r IN rows | CASE WHEN r.accuracy > best.accuracy THEN r ELSE best END)
       AS by_accuracy
UNWIND range(0, n - 2) AS a
UNWIND range(a + 1, n - 1) AS b
WITH d, n, by_score, by_accuracy,
     sign(rows[a].score - rows[b].score) * sign(rows[a].accuracy - rows[b].accuracy) AS agree
WITH d, n, by_score, by_accuracy,
     sum(CASE WHEN agree > 0 THEN 1 ELSE 0 END) AS concordant,
     sum(CASE WHEN agree < 0 THEN 1 ELSE 0 END) AS discordant
RETURN d.name AS dataset, n AS models,
       toFloat(concordant - discordant) / (n * (n - 1) / 2) AS kendall_tau,
       by_score.model AS top_by_score, by_accuracy.model AS best_observed,
       by_score.model = by_accuracy.model AS top1_agrees
ORDER BY kendall_tau ASC, dataset ASC
LIMIT $limit
