"""Prediction: ``Predictor`` and its backends, the TF-IDF model, fusion and calibration, explanations, export."""
