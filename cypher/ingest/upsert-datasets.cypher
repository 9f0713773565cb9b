// upsert-datasets: create or update datasets and link them to their domain and labels.
// One atomic statement per batch, so a crash leaves each dataset either old or new. Links
// are deleted and created again in the same statement, so CREATE cannot duplicate them.
// @param rows list  maps {name, props, domain: [0 or 1 name], labels: [names]}
UNWIND $rows AS row
MERGE (d:Dataset {name: row.name})
SET d += row.props
WITH d, row
OPTIONAL MATCH (d)-[old:IN_DOMAIN|HAS_LABEL]->()
DELETE old
WITH DISTINCT d, row
FOREACH (v IN row.domain | MERGE (x:Domain {name: v}) CREATE (d)-[:IN_DOMAIN]->(x))
FOREACH (v IN row.labels | MERGE (l:Label {name: v}) CREATE (d)-[:HAS_LABEL]->(l))
