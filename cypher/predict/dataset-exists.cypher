// dataset-exists: whether a dataset of this name is in the graph.
// @param name string  the dataset's name
OPTIONAL MATCH (d:Dataset {name: $name})
RETURN count(d) > 0 AS found
