"""Scoring: a saved model on a labelled file (:mod:`.evaluation`), and the TF-IDF baseline every model is scored
against (:mod:`.tfidf_baseline`)."""
