// dataset-names: every dataset's name (to suggest close names for a typo).
MATCH (d:Dataset)
RETURN d.name AS name
