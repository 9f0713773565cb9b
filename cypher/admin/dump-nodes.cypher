// dump-nodes: every node with its labels and properties (for exports and tests).
MATCH (n)
RETURN labels(n) AS labels, properties(n) AS properties
