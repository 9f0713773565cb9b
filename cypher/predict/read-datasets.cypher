// read-datasets: a page of datasets with their properties, in name order (for training).
// @param skip int = 0  how many datasets to skip
// @param limit int = 10000  page size
MATCH (d:Dataset)
RETURN d.name AS name, properties(d) AS props
ORDER BY name
SKIP $skip LIMIT $limit
