// similar-datasets: datasets that share labels or the domain with a dataset, most shared first.
// @param dataset string  the dataset's name
// @param k int = 10  how many datasets to return
MATCH (d:Dataset {name: $dataset})
MATCH (d)-[:HAS_LABEL|IN_DOMAIN]->(a)<-[:HAS_LABEL|IN_DOMAIN]-(other:Dataset)
WHERE other <> d
WITH other,
     count(CASE WHEN a:Label THEN 1 END) AS shared_labels,
     max(CASE WHEN a:Domain THEN 1 ELSE 0 END) AS same_domain
RETURN other.name AS dataset, other.domain AS domain, shared_labels, same_domain = 1 AS same_domain
ORDER BY shared_labels DESC, same_domain DESC, dataset ASC
LIMIT $k
