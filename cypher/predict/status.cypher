// status: the observed edge count, and when the inputs last changed.
// "Inputs": the latest updated_at of the observed edges, and of the SCORED edges.
OPTIONAL MATCH ()-[t:TRANSFERS_TO]->()
WITH count(t) AS observed, max(t.updated_at) AS last_observed_change
OPTIONAL MATCH ()-[s:SCORED]->()
RETURN observed, last_observed_change, max(s.updated_at) AS last_score_change
