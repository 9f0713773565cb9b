// family-models: the models of an architecture family, with how many datasets each was measured on.
// @param family string  the family's name, e.g. resnet
MATCH (m:Model)-[:IN_FAMILY]->(:Family {name: $family})
OPTIONAL MATCH (m)-[t:TRANSFERS_TO]->(:Dataset)
RETURN m.name AS model, m.params AS params, m.top1 AS top1,
       count(t) AS datasets, avg(t.accuracy) AS mean_accuracy
ORDER BY model ASC
