// known-metadata: which of a new dataset's domain and labels the graph already holds.
// As Domain and Label nodes; graphrec warns about values no predictor has seen.
// @param domain string = null  the domain's name
// @param labels list = []  the label names
OPTIONAL MATCH (x:Domain {name: $domain})
WITH count(x) > 0 AS domain_known
UNWIND (CASE WHEN size($labels) = 0 THEN [null] ELSE $labels END) AS name
OPTIONAL MATCH (l:Label {name: name})
RETURN domain_known, [n IN collect(CASE WHEN l IS NULL THEN null ELSE name END)
                      WHERE n IS NOT NULL] AS known_labels
