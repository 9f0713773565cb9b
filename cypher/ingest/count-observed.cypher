// count-observed: how many observed and scored edges exist (an empty graph skips diffing).
OPTIONAL MATCH ()-[t:TRANSFERS_TO|SCORED]->()
RETURN count(t) AS edges
