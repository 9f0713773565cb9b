// status: observed and predicted edge counts, and when an observed edge last changed.
// @param predictor string = null  a predictor id
OPTIONAL MATCH ()-[t:TRANSFERS_TO]->()
WITH count(t) AS observed, max(t.updated_at) AS last_observed_change
OPTIONAL MATCH ()-[p:PREDICTED {predictor: $predictor}]->()
RETURN observed, last_observed_change, count(p) AS predicted
