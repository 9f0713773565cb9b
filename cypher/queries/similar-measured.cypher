// similar-measured: the datasets most like a dataset on which a model was measured, with its accuracy there.
// What `graphrec explain DATASET MODEL` shows as `similar`: shared labels first, then a shared domain.
// @param dataset string  the dataset's name
// @param model string  the model's name
// @param k int = 5  how many datasets to return
MATCH (d:Dataset {name: $dataset})
MATCH (:Model {name: $model})-[t:TRANSFERS_TO]->(other:Dataset)
WHERE other <> d
OPTIONAL MATCH (d)-[:HAS_LABEL]->(l:Label)<-[:HAS_LABEL]-(other)
WITH d, other, t, collect(l.name) AS shared
OPTIONAL MATCH (d)-[:IN_DOMAIN]->(x:Domain)<-[:IN_DOMAIN]-(other)
WITH other, t, shared, count(x) > 0 AS same_domain
RETURN other.name AS dataset, other.domain AS domain, t.accuracy AS accuracy, t.runs AS runs,
       size(shared) AS shared_labels, shared[0..5] AS some_shared_labels, same_domain
ORDER BY shared_labels DESC, same_domain DESC, dataset ASC
LIMIT $k
