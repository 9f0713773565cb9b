// dump-relationships: every relationship with its endpoints' names and its properties.
MATCH (a)-[r]->(b)
RETURN labels(a) AS from_labels, a.name AS from_name, type(r) AS type,
       properties(r) AS properties, labels(b) AS to_labels, b.name AS to_name
