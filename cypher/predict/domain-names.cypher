// domain-names: every Domain node's name (for close-name hints).
MATCH (x:Domain)
RETURN x.name AS name
