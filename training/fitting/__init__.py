"""Fitting: the checks run before any work (:mod:`.checks`), from a config to a trained run folder (:mod:`.recipe`,
with :mod:`.building` and :mod:`.zero_shot`), and searches over configs (:mod:`.search`)."""
