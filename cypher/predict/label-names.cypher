// label-names: Label node names, up to `limit` (for close-name hints).
// @param limit int = 100000  how many names at most
MATCH (l:Label)
RETURN l.name AS name
LIMIT $limit
