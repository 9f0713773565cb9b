// status: observed and predicted edge counts, and when the inputs last changed.
// "Inputs": the latest updated_at of the observed edges, and of the SCORED edges.
// @param predictor string = null  a predictor id
OPTIONAL MATCH ()-[t:TRANSFERS_TO]->()
WITH count(t) AS observed, max(t.updated_at) AS last_observed_change
OPTIONAL MATCH ()-[s:SCORED]->()
WITH observed, last_observed_change, max(s.updated_at) AS last_score_change
OPTIONAL MATCH ()-[p:PREDICTED {predictor: $predictor}]->()
RETURN observed, last_observed_change, last_score_change, count(p) AS predicted
