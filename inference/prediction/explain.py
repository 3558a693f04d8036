"""Which sentences move a prediction: occlusion, leaving one sentence out at a time.

The article is cut into sentences; for each sentence the model scores the article without it, and
the sentence's effect is how much the explained label's probability drops (positive: the sentence
supports the label; negative: it argues against it). All variants go through the predictor in one
call, so the cost is one prediction per sentence. Sentences outside the model's windows (past the
head of a long article, say) have no effect, which is what the model really reads.

>>> explanation = explain(predictor, {"title": "...", "content": "..."}, task="topic")  # doctest: +SKIP
>>> [(s.text[:40], round(s.effect, 2)) for s in explanation.top(3)]  # doctest: +SKIP
>>> split_sentences("Rates rose. Markets fell!  Why?")
['Rates rose.', 'Markets fell!', 'Why?']
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..model.windowing import Article

if TYPE_CHECKING:
    from .predictor import Predictor

# A sentence ends at . ! or ? (optionally followed by a closing quote or bracket) before white space.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[.!?][\"'”’)\]])\s+")
_PARAGRAPH = re.compile(r"\n\s*\n")
# A piece ending in an initial or a common abbreviation ("Steven K.", "Dr.", "U.S.") continues the sentence.
_NOT_AN_END = re.compile(r"(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|Prof|Sen|Rep|Gov|Gen|Lt|Col|St|Jr|Sr|No|vs|etc|U\.S|U\.K))\.$")


def split_sentences(text: str) -> list[str]:
    """Cuts text into sentences: end punctuation followed by white space, except after initials and
    common abbreviations."""
    sentences: list[str] = []
    for part in (piece.strip() for piece in _SENTENCE_END.split(text.strip())):
        if not part:
            continue
        if sentences and _NOT_AN_END.search(sentences[-1]):
            sentences[-1] += " " + part
        else:
            sentences.append(part)
    return sentences


@dataclass
class SentenceEffect:
    """One sentence and what leaving it out does to the explained label's probability."""

    field: str
    """The text field the sentence is in (``text`` for a plain string)."""
    index: int
    """Its position in the article, counting sentences over all fields."""
    text: str
    score_without: float
    """The label's probability when the sentence is left out."""
    effect: float
    """The full article's probability minus ``score_without``."""


@dataclass
class Explanation:
    """A label of one task and the effect of each sentence of the article on its probability."""

    task: str
    label: str
    score: float
    """The label's probability for the whole article."""
    predicted: str
    """The label the model predicts for the whole article."""
    sentences: list[SentenceEffect] = field(default_factory=list)

    def top(self, n: int = 5, by: str = "absolute") -> list[SentenceEffect]:
        """The ``n`` sentences with the largest effect: ``absolute`` (either way), ``support`` or ``against``."""
        keys = {"absolute": lambda s: -abs(s.effect), "support": lambda s: -s.effect, "against": lambda s: s.effect}
        if by not in keys:
            raise ValueError(f"by must be one of {sorted(keys)}, got {by!r}")
        return sorted(self.sentences, key=keys[by])[:n]

    def as_rows(self) -> list[dict[str, Any]]:
        """One dict per sentence, in article order (for ``pandas.DataFrame``)."""
        return [vars(sentence).copy() for sentence in self.sentences]


def _units(article: Article, text_fields: list[str]) -> list[tuple[str, list[list[str]]]]:
    """``[(field, paragraphs)]``, each paragraph a list of sentences."""
    if isinstance(article, str):
        fields = [("text", article)]
    elif isinstance(article, Mapping):
        fields = [(name, "" if article.get(name) is None else str(article.get(name))) for name in text_fields]
    else:
        raise TypeError(
            f"an article must be a string or a dict with fields {text_fields}, got {type(article).__name__}"
        )
    return [(name, [split_sentences(p) for p in _PARAGRAPH.split(text) if p.strip()]) for name, text in fields]


def _rebuild(
    article: Article, units: list[tuple[str, list[list[str]]]], skip: int | None
) -> tuple[Article, list[tuple[str, str]]]:
    """The article with sentence number ``skip`` left out, and the ``(field, sentence)`` list."""
    sentences: list[tuple[str, str]] = []
    texts = {}
    for name, paragraphs in units:
        kept_paragraphs = []
        for paragraph in paragraphs:
            kept = []
            for sentence in paragraph:
                if len(sentences) != skip:
                    kept.append(sentence)
                sentences.append((name, sentence))
            if kept:
                kept_paragraphs.append(" ".join(kept))
        texts[name] = "\n\n".join(kept_paragraphs)
    if isinstance(article, str):
        return texts["text"], sentences
    return {**article, **texts}, sentences


def explain(
    predictor: Predictor,
    article: Article,
    task: str | None = None,
    label: str | None = None,
    max_sentences: int | None = None,
) -> Explanation:
    """Explains one article's prediction for one task by leaving out each sentence in turn.

    Args:
        predictor: a loaded :class:`~inference.prediction.predictor.Predictor`.
        article: a string or a dict with the model's text fields.
        task: the task to explain; defaults to the model's first task.
        label: the label whose probability is tracked; defaults to the predicted one.
        max_sentences: refuse (before predicting anything) an article of more sentences than this;
            each sentence costs one prediction. ``None``: no limit.

    Returns:
        An :class:`Explanation` with one :class:`SentenceEffect` per sentence, in article order.

    Raises:
        ValueError: for an unknown task or label, or more than ``max_sentences`` sentences.
    """
    task = task or predictor.tasks[0]
    if task not in predictor.tasks:
        raise ValueError(f"unknown task {task!r}; the model's tasks are {predictor.tasks}")
    labels = predictor.labels(task)
    if label is not None and label not in labels:
        raise ValueError(f"task {task!r} has no label {label!r}; its labels are {labels}")
    units = _units(article, predictor.text_fields)
    whole, sentences = _rebuild(article, units, None)
    if max_sentences is not None and len(sentences) > max_sentences:
        raise ValueError(
            f"the article has {len(sentences)} sentences; at most {max_sentences} are explained (one prediction each)"
        )
    variants = [whole] + [_rebuild(article, units, skip)[0] for skip in range(len(sentences))]
    probabilities = predictor.predict_proba(variants)[task]
    predicted = labels[int(probabilities[0].argmax())]
    column = labels.index(label or predicted)
    full, *without = (float(p) for p in probabilities[:, column])
    effects = [
        SentenceEffect(name, index, text, score, full - score)
        for index, ((name, text), score) in enumerate(zip(sentences, without))
    ]
    return Explanation(task=task, label=labels[column], score=full, predicted=predicted, sentences=effects)
