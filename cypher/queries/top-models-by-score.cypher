// top-models-by-score: the models a proxy score ranks highest for a dataset.
// Proxy scores are LogME, LEEP, NCE, H-Score or your own (SCORED edges); each row also
// gives the model's observed accuracy on the dataset where one is known.
// @param dataset string  the dataset's name
// @param metric string  the score's metric name, as stored on the SCORED edges
// @param k int = 5  how many models to return
MATCH (m:Model)-[s:SCORED {metric: $metric}]->(d:Dataset {name: $dataset})
OPTIONAL MATCH (m)-[t:TRANSFERS_TO]->(d)
RETURN m.name AS model, m.family AS family, s.value AS score, t.accuracy AS accuracy
ORDER BY score DESC, model ASC
LIMIT $k
