// create-predictor: record a trained predictor, so predictions can name where they came from.
// @param props map  {id, model, created_at, hyperparameters, trained_on_edges, train_loss, checkpoint}
CREATE (p:Predictor)
SET p = $props
RETURN p.id AS id
