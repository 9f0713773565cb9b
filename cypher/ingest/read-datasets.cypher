// read-datasets: the stored properties of the named datasets (to skip unchanged ones).
// @param names list  dataset names
UNWIND $names AS name
MATCH (d:Dataset {name: name})
RETURN d.name AS name, properties(d) AS props
