// read-models: the stored properties of the named models (to skip unchanged ones).
// @param names list  model names
UNWIND $names AS name
MATCH (m:Model {name: name})
RETURN m.name AS name, properties(m) AS props
