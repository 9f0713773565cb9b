// count-observed: whether any observed or scored edge exists (an empty graph skips diffing).
OPTIONAL MATCH ()-[t:TRANSFERS_TO|SCORED]->()
WITH t LIMIT 1
RETURN count(t) AS edges
