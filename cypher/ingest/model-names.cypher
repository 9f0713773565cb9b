// model-names: every model's name (close matches for a score naming an unknown model).
MATCH (m:Model)
RETURN m.name AS name
