"""Fitting: from a config to a trained run folder (:mod:`.recipe`), and searches over configs (:mod:`.search`)."""
