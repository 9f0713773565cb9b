// read-transfer-digests: the digest of each observed edge into the named datasets.
// A digest fingerprints an edge's properties (graphrec writes it with them), so an ingest
// finds its unchanged edges by comparing one integer per edge instead of sending every
// property back. -1: an edge written before digests (compared in full instead).
// @param datasets list  dataset names
UNWIND $datasets AS name
MATCH (d:Dataset {name: name})<-[t:TRANSFERS_TO]-(m:Model)
RETURN d.name AS dataset, collect(m.name) AS models, collect(coalesce(t.digest, -1)) AS digests
