// read-models: every model with its properties (for training and predicting).
// One statement, so the list is one snapshot; graphrec sorts by name itself.
MATCH (m:Model)
RETURN m.name AS name, properties(m) AS props
