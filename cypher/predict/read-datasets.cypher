// read-datasets: every dataset with its properties (for training and predicting).
// One statement, so the list is one snapshot; graphrec sorts by name itself.
MATCH (d:Dataset)
RETURN d.name AS name, properties(d) AS props
