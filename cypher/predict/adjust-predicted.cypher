// adjust-predicted: change the recorded size of a predictor's complete version.
// After a cold-start dataset was saved into it (`recommend --save`), by `delta` edges.
// @param id string  the predictor's id
// @param delta int  edges added (negative: removed)
MATCH (p:Predictor {id: $id})
SET p.predicted = coalesce(p.predicted, 0) + $delta
RETURN p.predicted AS predicted
