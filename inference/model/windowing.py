"""From articles to the token windows the model reads, shared by training and prediction.

An article is a string or a mapping with the same fields for every model, whatever the training
data called its columns (``data.columns`` maps them): ``title`` and ``content``, the text fields, and
``target`` for pair tasks (the claim or headline the text is read against). The text fields a model
reads are stripped and joined with a blank line, in the order its config names them. The joined
text is tokenized without special tokens, then cut into windows:

* ``head``: the first ``max_length`` tokens.
* ``head+tail``: the first ``head_fraction`` of the budget plus the end of the article, which is
  where news stories put context and conclusions (Sun et al., 2019, found head+tail best for long
  documents).
* ``chunks``: overlapping windows over the whole article (``stride`` tokens of overlap), at most
  ``max_windows`` of them, evenly spread when the article is longer; the model pools them.

Under ``head`` only the start of a long text is tokenized, under ``head+tail`` its two ends (:func:`token_ids`),
when the tokenizer splits words at spaces before it looks at them, so the windows are the same as from the whole
text at a fraction of the tokenizing.

>>> article_text({"title": "Rates rise", "content": "The bank acted."}, ("title", "content"))
'Rates rise\\n\\nThe bank acted.'
>>> split_tokens(list(range(10)), WindowConfig(strategy="head", max_length=8), budget=4)
[[0, 1, 2, 3]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .ranges import CLOSED_SHARE, Rule, at_least

if TYPE_CHECKING:  # imported where windows are padded, so reading articles needs no torch
    import torch

STRATEGIES = ("head", "head+tail", "chunks")
FIELD_SEPARATOR = "\n\n"
ARTICLE_FIELDS = ("title", "content")  # the text fields of an article, in their usual order
TARGET_FIELD = "target"  # the field holding a pair task's target

Article = str | Mapping[str, Any]

# The range of each number of a WindowConfig: the config keys model.max_length, ... take theirs from here.
WINDOW_RULES: dict[str, Rule] = {
    "max_length": at_least(8),
    "stride": at_least(0),
    "max_windows": at_least(1),
    "head_fraction": CLOSED_SHARE,
    "max_target_tokens": at_least(1),
}


@dataclass(frozen=True)
class WindowConfig:
    """How an article becomes windows.

    Args:
        strategy: ``head``, ``head+tail`` or ``chunks``.
        max_length: tokens per window, special tokens included.
        stride: tokens shared by two neighbouring chunks.
        max_windows: most chunks read per article (``chunks`` only).
        head_fraction: share of the budget taken from the start (``head+tail`` only).
        max_target_tokens: tokens of a pair's target kept in every window (``pair`` tasks only).
    """

    strategy: str = "head"
    max_length: int = 256
    stride: int = 32
    max_windows: int = 8
    head_fraction: float = 0.25
    max_target_tokens: int = 64

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"window strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        for name, rule in WINDOW_RULES.items():
            value = getattr(self, name)
            if not rule.accepts(value):
                raise ValueError(f"{name} must be {rule.expected}, got {value!r}")
        if self.strategy == "chunks" and not self.stride < self.max_length // 2:
            raise ValueError(f"stride must be in [0, max_length/2), got {self.stride}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def article_text(article: Article, text_fields: Sequence[str]) -> str:
    """Joins an article's text fields into the one string the model reads.

    A string is taken as the whole article. ``None`` fields count as empty; other values are
    converted with ``str``.

    Raises:
        TypeError: if the article is neither a string nor a mapping.
        ValueError: if a mapping has none of ``text_fields``.
    """
    if isinstance(article, str):
        return _clean(article)
    if not isinstance(article, Mapping):
        raise TypeError(
            f"an article must be a string or a dict with fields {list(text_fields)}, got {type(article).__name__}"
        )
    if not any(field in article for field in text_fields):
        raise ValueError(
            f"article has none of the text fields {list(text_fields)}; its keys are {sorted(map(str, article))}"
        )
    parts = []
    for field in text_fields:
        value = article.get(field)
        text = "" if value is None else _clean(str(value))
        if text:
            parts.append(text)
    return FIELD_SEPARATOR.join(parts)


def standard_fields(text_fields: Sequence[str]) -> dict[str, str]:
    """Maps the text fields a model's config stores onto the article fields it reads.

    Models saved before every model read ``title``/``content`` stored the data's column names (FNC-1's
    ``articleBody``). Each such name stands for an article field the model does not already read: the
    last one for ``content``, the one before it for ``title``; any further name stays as it is.

    >>> standard_fields(["articleBody"])
    {'articleBody': 'content'}
    >>> standard_fields(["title", "content"])
    {'title': 'title', 'content': 'content'}
    """
    free = [name for name in ARTICLE_FIELDS if name not in text_fields]
    legacy = [name for name in text_fields if name not in ARTICLE_FIELDS]
    renamed = dict(zip(reversed(legacy), reversed(free)))
    return {name: renamed.get(name, name) for name in text_fields}


def _clean(text: str) -> str:
    """Strips the text and replaces lone surrogates (from broken JSON escapes), which tokenizers reject."""
    return text.encode("utf-8", "replace").decode("utf-8").strip()


def split_tokens(tokens: list[int], config: WindowConfig, budget: int) -> list[list[int]]:
    """Cuts one article's tokens (no special tokens) into windows of at most ``budget`` tokens."""
    if len(tokens) <= budget:
        return [tokens]
    if config.strategy == "head":
        return [tokens[:budget]]
    if config.strategy == "head+tail":
        head = round(budget * config.head_fraction)
        tail = budget - head
        return [tokens[:head] + (tokens[-tail:] if tail else [])]
    step = budget - config.stride
    starts = list(range(0, len(tokens) - config.stride, step))
    if len(starts) > config.max_windows:
        last = len(starts) - 1
        spread = max(config.max_windows - 1, 1)
        starts = [starts[i] for i in sorted({round(i * last / spread) for i in range(config.max_windows)})]
    return [tokens[start : start + budget] for start in starts]


CHARACTERS_PER_TOKEN = 8  # a generous bound on a token's length in news text (English runs about 4.5)
# pre-tokenizers that cut a text into words at spaces (among other places) before tokenizing each word,
# so a text cut at a space tokenizes into a prefix (or suffix) of the whole text's tokens
SPACE_SPLITTING = ("BertPreTokenizer", "Whitespace", "WhitespaceSplit")


PLAIN_TOKENS = {"add_special_tokens": False, "truncation": False, "verbose": False}  # a text's own tokens only


def token_ids(tokenizer: Any, texts: Sequence[str], config: WindowConfig) -> list[list[int]]:
    """Each text's token ids (no special tokens), or, where the windows read only a long text's start (``head``,
    ``chunks`` of one window) or its start and end (``head+tail``), those parts alone: at least ``max_length``
    tokens of each, joined, which :func:`split_tokens` cuts into the same windows as all of the text's tokens."""
    texts = list(texts)
    span = CHARACTERS_PER_TOKEN * config.max_length
    long = [i for i, text in enumerate(texts) if len(text) > 2 * span]
    reads_all = config.strategy == "chunks" and config.max_windows > 1
    if reads_all or not long or not _splits_at_spaces(tokenizer):
        return tokenizer(texts, **PLAIN_TOKENS)["input_ids"]
    parts_per_text = 2 if config.strategy == "head+tail" else 1
    parts = [part for i in long for part in _ends(texts[i], span)[:parts_per_text]]
    ids = iter(tokenizer(parts, **PLAIN_TOKENS)["input_ids"])
    shortened = {i: [next(ids) for _ in range(parts_per_text)] for i in long}
    whole = [i for i, text in enumerate(texts) if i not in shortened or min(map(len, shortened[i])) < config.max_length]
    encoded = dict(zip(whole, tokenizer([texts[i] for i in whole], **PLAIN_TOKENS)["input_ids"])) if whole else {}
    return [encoded[i] if i in encoded else [t for part in shortened[i] for t in part] for i in range(len(texts))]


def _ends(text: str, span: int) -> tuple[str, str]:
    """About ``span`` characters from each end of ``text``, cut at spaces so no word is split."""
    head_end = text.rfind(" ", 0, span)
    tail_start = text.find(" ", len(text) - span)
    return text[: max(head_end, 0)], text[tail_start + 1 if tail_start >= 0 else len(text) :]


def _splits_at_spaces(tokenizer: Any) -> bool:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return type(getattr(backend, "pre_tokenizer", None)).__name__ in SPACE_SPLITTING


def encode_articles(tokenizer: Any, texts: Sequence[str], config: WindowConfig) -> list[list[list[int]]]:
    """Tokenizes texts and returns, per text, its windows with special tokens added."""
    prefix, suffix = special_tokens(tokenizer)
    budget = config.max_length - len(prefix) - len(suffix)
    encoded = token_ids(tokenizer, texts, config)
    return [[prefix + window + suffix for window in split_tokens(tokens, config, budget)] for tokens in encoded]


def encode_pairs(
    tokenizer: Any, targets: Sequence[str], texts: Sequence[str], config: WindowConfig
) -> list[list[list[int]]]:
    """Tokenizes (target, text) pairs, e.g. (headline, article body): every window holds the whole
    target (its first ``config.max_target_tokens`` tokens) as the first segment, and a part of the text, cut
    by ``config`` as a single text would be, as the second (``[CLS] target [SEP] text part [SEP]``).

    Raises:
        ValueError: if the target leaves no room for the text, or no room for the chunks' stride.
    """
    if len(targets) != len(texts):
        raise ValueError(f"{len(targets)} targets for {len(texts)} texts; give one target per text")
    prefix, middle, suffix = pair_special_tokens(tokenizer)
    target_ids = tokenizer(list(targets), **PLAIN_TOKENS)["input_ids"]
    text_ids = token_ids(tokenizer, texts, config)
    pairs = []
    for target, text in zip(target_ids, text_ids):
        target = target[: config.max_target_tokens]
        budget = config.max_length - len(prefix) - len(middle) - len(suffix) - len(target)
        least = config.stride + 1 if config.strategy == "chunks" else 1
        if budget < least:
            raise ValueError(
                f"a target of {len(target)} tokens leaves {budget} of the window's {config.max_length} for the text; "
                f"lower max_target_tokens ({config.max_target_tokens}) or raise max_length"
            )
        pairs.append([prefix + target + middle + part + suffix for part in split_tokens(text, config, budget)])
    return pairs


def pair_special_tokens(tokenizer: Any) -> tuple[list[int], list[int], list[int]]:
    """The ids a tokenizer puts before, between and after the two texts of a pair ([CLS], [SEP], [SEP])."""
    first = tokenizer("a", add_special_tokens=False)["input_ids"]
    second = tokenizer("b", add_special_tokens=False)["input_ids"]
    full = tokenizer("a", "b", add_special_tokens=True)["input_ids"]
    for start in range(len(full)):
        if full[start : start + len(first)] != first:
            continue
        for middle_end in range(start + len(first), len(full) - len(second) + 1):
            if full[middle_end : middle_end + len(second)] == second:
                return full[:start], full[start + len(first) : middle_end], full[middle_end + len(second) :]
    raise ValueError(f"cannot locate the two texts of a pair between {type(tokenizer).__name__}'s special tokens")


def special_tokens(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The ids a tokenizer puts before and after a single text (``[CLS]`` and ``[SEP]`` for BERT)."""
    plain = tokenizer("a", add_special_tokens=False)["input_ids"]
    full = tokenizer("a", add_special_tokens=True)["input_ids"]
    for start in range(len(full) - len(plain) + 1):
        if full[start : start + len(plain)] == plain:
            return full[:start], full[start + len(plain) :]
    raise ValueError(f"cannot locate the text between {type(tokenizer).__name__}'s special tokens")


def pad_windows(
    articles: Sequence[Sequence[Sequence[int]]], pad_token_id: int, sep_token_id: int | None = None
) -> dict[str, np.ndarray]:
    """Pads the windows of a batch of articles to the longest window, as int64 numpy arrays.

    Returns ``input_ids``, ``attention_mask`` and ``window_to_article`` (the index, within the
    batch, of the article each window belongs to), which is what the model's ``forward`` takes,
    and, given ``sep_token_id``, ``token_type_ids`` for (target, text) pairs: 1 after a window's first
    separator (the second text and its closing separator), 0 elsewhere.
    """
    articles = list(articles)  # read twice below: a generator would leave the owners empty
    windows = [window for article in articles for window in article]
    if not windows:
        raise ValueError("pad_windows: the articles hold no windows to pad")
    owners = [index for index, article in enumerate(articles) for _ in article]
    longest = max(len(window) for window in windows)
    input_ids = np.full((len(windows), longest), pad_token_id, dtype=np.int64)
    attention_mask = np.zeros((len(windows), longest), dtype=np.int64)
    for row, window in enumerate(windows):
        input_ids[row, : len(window)] = window
        attention_mask[row, : len(window)] = 1
    owners_array = np.array(owners, dtype=np.int64)
    batch = {"input_ids": input_ids, "attention_mask": attention_mask, "window_to_article": owners_array}
    if sep_token_id is not None:
        is_sep = (input_ids == sep_token_id).astype(np.int64)
        after_first = (np.cumsum(is_sep, axis=1) - is_sep) > 0
        batch["token_type_ids"] = (after_first & (attention_mask == 1)).astype(np.int64)
    return batch


def window_assignment_rows(window_to_article: np.ndarray) -> np.ndarray:
    """The ``(articles, windows)`` 0/1 float32 matrix that pools windows into articles (numpy; the model's own is
    :func:`inference.model.heads.window_assignment`).

    >>> window_assignment_rows(np.array([0, 0, 1]))
    array([[1., 1., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    articles = np.arange(int(window_to_article.max()) + 1)
    return (window_to_article[None, :] == articles[:, None]).astype(np.float32)


def collate_windows(
    articles: Sequence[Sequence[Sequence[int]]], pad_token_id: int, sep_token_id: int | None = None
) -> dict[str, torch.Tensor]:
    """:func:`pad_windows` as torch tensors, for a torch model's ``forward``."""
    import torch

    return {key: torch.from_numpy(value) for key, value in pad_windows(articles, pad_token_id, sep_token_id).items()}
