// read-models: a page of models with their properties, in name order (for training).
// @param skip int = 0  how many models to skip
// @param limit int = 10000  page size
MATCH (m:Model)
RETURN m.name AS name, properties(m) AS props
ORDER BY name
SKIP $skip LIMIT $limit
