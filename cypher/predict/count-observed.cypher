// count-observed: how many observed edges there are.
// Neo4j reads it from its count store, FalkorDB from the relation matrix: no scan.
MATCH ()-[t:TRANSFERS_TO]->()
RETURN count(t) AS observed
