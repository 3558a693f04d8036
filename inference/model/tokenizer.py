"""A model folder's fast tokenizer run by the ``tokenizers`` library alone, without transformers.

transformers saves a fast tokenizer's whole pipeline (normaliser, pre-tokeniser, vocabulary, special-token
template) in ``tokenizer.json``; its own tokenizer class adds nothing to the ids newsclf asks for (a text's
plain tokens, and the special tokens around one text or a pair), so reading that file with ``tokenizers``
gives the same ids in milliseconds instead of the second transformers takes to import. Only what
:mod:`inference.model.windowing` and the :class:`~inference.prediction.predictor.Predictor` call is offered.

>>> from tokenizers import Tokenizer, models, pre_tokenizers, processors
>>> backend = Tokenizer(models.WordLevel({"[PAD]": 0, "[CLS]": 1, "[SEP]": 2, "rates": 3, "rise": 4}, "[PAD]"))
>>> backend.pre_tokenizer = pre_tokenizers.Whitespace()
>>> backend.post_processor = processors.BertProcessing(("[SEP]", 2), ("[CLS]", 1))
>>> tokenizer = FolderTokenizer(backend, {"pad_token": "[PAD]", "sep_token": "[SEP]"})
>>> tokenizer(["rates rise"], add_special_tokens=False)["input_ids"]
[[3, 4]]
>>> tokenizer("rates", "rise")["input_ids"], tokenizer.pad_token_id
([1, 3, 2, 4, 2], 0)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_CONFIG = "tokenizer_config.json"
# tokenizer classes whose ids are tokenizer.json's alone (transformers' fast tokenizers of BERT and MPNet)
PLAIN_FAST_CLASSES = (
    "BertTokenizer",
    "BertTokenizerFast",
    "MPNetTokenizer",
    "MPNetTokenizerFast",
    "TokenizersBackend",
    "PreTrainedTokenizerFast",
)


def folder_tokenizer_supported(folder: str | Path) -> bool:
    """Whether ``folder`` holds a tokenizer this module reproduces: a ``tokenizer.json`` saved for one of
    :data:`PLAIN_FAST_CLASSES`."""
    folder = Path(folder)
    try:
        settings = json.loads((folder / TOKENIZER_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(settings, dict)
        and settings.get("tokenizer_class") in PLAIN_FAST_CLASSES
        and (folder / TOKENIZER_FILE).is_file()
    )


class FolderTokenizer:
    """The ids of transformers' fast tokenizer from its ``tokenizers`` backend.

    Args:
        backend: a ``tokenizers.Tokenizer`` (its truncation and padding are switched off: windows cut texts).
        special_tokens: ``tokenizer_config.json``'s settings, of which ``pad_token`` and ``sep_token`` are read.
    """

    def __init__(self, backend: Any, special_tokens: Mapping[str, Any]) -> None:
        backend.no_truncation()
        backend.no_padding()
        self.backend_tokenizer = backend
        self.pad_token_id = self._token_id(special_tokens.get("pad_token"))
        self.sep_token_id = self._token_id(special_tokens.get("sep_token"))

    @classmethod
    def from_folder(cls, folder: str | Path) -> FolderTokenizer:
        """Reads ``tokenizer.json`` and ``tokenizer_config.json`` from a model folder."""
        from tokenizers import Tokenizer

        folder = Path(folder)
        settings = json.loads((folder / TOKENIZER_CONFIG).read_text(encoding="utf-8"))
        try:
            backend = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        except Exception as error:  # tokenizers raises a bare Exception for a file it cannot parse
            raise ValueError(f"{folder / TOKENIZER_FILE}: {error}") from error
        return cls(backend, settings)

    def _token_id(self, token: Any) -> int | None:
        if isinstance(token, Mapping):  # an AddedToken saved as a dict
            token = token.get("content")
        return None if token is None else self.backend_tokenizer.token_to_id(str(token))

    def __call__(
        self,
        text: str | Sequence[str],
        text_pair: str | None = None,
        *,
        add_special_tokens: bool = True,
        truncation: bool = False,
        verbose: bool = True,
    ) -> dict[str, Any]:
        """``{"input_ids": ...}`` for one text (or pair) or a list of texts, as transformers' tokenizer gives it."""
        if truncation:
            raise ValueError("FolderTokenizer does not truncate: newsclf cuts texts into windows itself")
        if isinstance(text, str):
            pair = text_pair or None  # an empty second text is no pair, as in transformers
            encoding = self.backend_tokenizer.encode(text, pair, add_special_tokens=add_special_tokens)
            return {"input_ids": encoding.ids}
        if text_pair is not None:
            raise ValueError("pairs are tokenized one at a time")
        encodings = self.backend_tokenizer.encode_batch(list(text), add_special_tokens=add_special_tokens)
        return {"input_ids": [encoding.ids for encoding in encodings]}
