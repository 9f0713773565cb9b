// count-scores: how many proxy scores (SCORED edges) there are, without a scan.
MATCH ()-[s:SCORED]->()
RETURN count(s) AS scores
