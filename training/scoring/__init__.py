"""Scoring: per-task metrics and reports (:mod:`.metrics`), a saved model on a labelled file (:mod:`.evaluation`),
the TF-IDF baseline every model is scored against (:mod:`.tfidf_baseline`), and the notebooks' analyses
(:mod:`.analysis`)."""
