// clear-dataset-predictions: delete one predictor's predicted edges into some datasets.
// Run before their predictions are written again.
// @param predictor string  the predictor's id
// @param datasets list  dataset names
UNWIND $datasets AS name
MATCH (:Dataset {name: name})<-[p:PREDICTED {predictor: $predictor}]-(:Model)
DELETE p
RETURN count(*) AS deleted
