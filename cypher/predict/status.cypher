// status: the latest write of observed edges and of proxy scores after a moment.
// The moment is when the current predictor's training read the graph: a later write makes
// its predictions stale. Indexes on updated_at make this a range lookup, not a scan.
// @param since string  ISO 8601 time
OPTIONAL MATCH ()-[t:TRANSFERS_TO]->()
WHERE t.updated_at > $since
WITH max(t.updated_at) AS last_observed_change
OPTIONAL MATCH ()-[s:SCORED]->()
WHERE s.updated_at > $since
RETURN last_observed_change, max(s.updated_at) AS last_score_change
