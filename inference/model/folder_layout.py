"""The files of a model folder, each named once. Training writes them (``training.runs.saving``, the TF-IDF baseline
in ``inference.prediction.tfidf``); inference reads them (``loading``, ``manifest``, the predictor and the server)."""

CONFIG_FILE = "config.json"  # tasks, label maps, windowing and the encoder's config (ModelSettings)
WEIGHTS_FILE = "model.safetensors"
MANIFEST = "manifest.json"  # the SHA-256 of every other file, checked before anything is read
CALIBRATION_FILE = "calibration.json"  # each task's temperature and TF-IDF share
TFIDF_FOLDER = "tfidf"  # a fine-tuned model's fused TF-IDF model, itself a baseline folder
BASELINE_FILE = "baseline.json"  # marks a TF-IDF baseline folder, which has no CONFIG_FILE
TFIDF_WEIGHTS_FILE = "weights.safetensors"  # a baseline's IDF and coefficients
TRAINING_CONFIG_FILE = "training_config.yaml"  # the whole config of the run that made the folder
METRICS_FILE = "metrics.json"  # that run's scores (the run folder holds the same file)
MODEL_CARD_FILE = "README.md"
REQUIRED_FILES = (CONFIG_FILE, WEIGHTS_FILE)
