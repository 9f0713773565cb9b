// get-predictor: one predictor by id.
// @param id string  the predictor's id
MATCH (p:Predictor {id: $id})
RETURN properties(p) AS predictor
