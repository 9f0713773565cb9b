// compare-transfers: which of these pairs already have exactly these properties.
// Used for edges written before digests (read-transfer-digests); the digest is not compared.
// The database compares, so an unchanged edge costs one boolean on the way back.
// Returns one row per pair that has an observed edge; pairs without one are new. The match
// starts at the dataset (a dataset has at most one edge per model; a popular model can
// have one per dataset), so the unlabelled `m` is deliberate.
// @param rows list  [model name, dataset name, {accuracy, runs, ...}] per pair
UNWIND $rows AS row
MATCH (d:Dataset {name: row[1]})<-[t:TRANSFERS_TO]-(m)
WHERE m.name = row[0]
WITH row, t, row[2] AS new
RETURN row[0] AS model, row[1] AS dataset,
       size([k IN keys(t) WHERE k <> 'updated_at' AND k <> 'digest'])
         = size([k IN keys(new) WHERE k <> 'digest'])
       AND all(k IN keys(new) WHERE k = 'digest' OR t[k] = new[k]) AS same
