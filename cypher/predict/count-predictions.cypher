// count-predictions: how many predicted edges one version of a predictor holds.
// @param predictor string  the predictor's id
// @param version string = null  the version (null: every version)
MATCH ()-[p:PREDICTED {predictor: $predictor}]->()
WHERE $version IS NULL OR p.version = $version
RETURN count(p) AS predicted
