"""newsclf inference: load a saved model folder and classify news articles.

>>> from inference import Predictor, predict
>>> predict("Congress passes the budget", model="runs/default/model")  # doctest: +SKIP
"""

from .calibration import TaskCalibration, fused_probabilities
from .explain import Explanation, SentenceEffect, explain, split_sentences
from .loading import ModelFolderError, check_model_folder, load_model_folder
from .modeling import NewsClassifier, NewsClassifierConfig, NewsClassifierOutput
from .predictor import Predictor, predict
from .sparse import TfidfPredictor
from .windowing import WindowConfig, article_text, collate_windows, encode_articles, split_tokens

__all__ = [
    "Explanation",
    "ModelFolderError",
    "NewsClassifier",
    "NewsClassifierConfig",
    "NewsClassifierOutput",
    "Predictor",
    "SentenceEffect",
    "TaskCalibration",
    "TfidfPredictor",
    "WindowConfig",
    "article_text",
    "check_model_folder",
    "collate_windows",
    "encode_articles",
    "explain",
    "fused_probabilities",
    "load_model_folder",
    "predict",
    "split_sentences",
    "split_tokens",
]
