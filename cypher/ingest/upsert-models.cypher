// upsert-models: create or update models and link them to their attribute nodes.
// One atomic statement per batch, so a crash leaves each model either old or new. Links
// are deleted and created again in the same statement, so CREATE cannot duplicate them.
// @param rows list  maps {name, props, family: [0 or 1 name], pretrain_dataset: [0 or 1 name]}
UNWIND $rows AS row
MERGE (m:Model {name: row.name})
SET m += row.props
WITH m, row
OPTIONAL MATCH (m)-[old:IN_FAMILY|PRETRAINED_ON]->()
DELETE old
WITH DISTINCT m, row
FOREACH (v IN row.family | MERGE (f:Family {name: v}) CREATE (m)-[:IN_FAMILY]->(f))
FOREACH (v IN row.pretrain_dataset |
  MERGE (p:PretrainDataset {name: v}) CREATE (m)-[:PRETRAINED_ON]->(p))
