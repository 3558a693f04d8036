"""newsclf inference: load a saved model folder and classify news articles.

>>> from inference import Predictor, predict
>>> predict("Congress passes the budget", model="runs/default/model")  # doctest: +SKIP
"""

from .loading import ModelFolderError, check_model_folder, load_model_folder
from .modeling import NewsClassifier, NewsClassifierConfig, NewsClassifierOutput
from .predictor import Predictor, predict
from .windowing import WindowConfig, article_text, collate_windows, encode_articles, split_tokens

__all__ = [
    "ModelFolderError",
    "NewsClassifier",
    "NewsClassifierConfig",
    "NewsClassifierOutput",
    "Predictor",
    "WindowConfig",
    "article_text",
    "check_model_folder",
    "collate_windows",
    "encode_articles",
    "load_model_folder",
    "predict",
    "split_tokens",
]
