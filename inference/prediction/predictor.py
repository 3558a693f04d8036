"""Prediction with a saved model: ``Predictor`` and the one-line ``predict``.

>>> predictor = Predictor.from_pretrained("runs/default/model")  # doctest: +SKIP
>>> predictor.predict({"title": "Fed raises rates", "content": "The central bank ..."})  # doctest: +SKIP
{'topic': {'label': 'economy', 'score': 0.93, 'scores': {...}}, 'leaning': {...}}
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..model.folder_layout import CALIBRATION_FILE, TFIDF_FOLDER
from ..model.loading import (
    ModelFolderError,
    check_model_folder,
    exceeded_limit,
    explain_positions,
    is_baseline_folder,
    load_config_and_tokenizer,
    load_for_prediction,
)
from ..model.windowing import (
    TARGET_FIELD,
    Article,
    article_text,
    encode_articles,
    encode_pairs,
    pad_windows,
    standard_fields,
)
from ..options import PredictOptions
from .backends import (
    bf16_supported,
    choose_backend,
    default_batch_size,
    onnx_files,
    onnxruntime_available,
)
from .fusion import TaskCalibration, fused_probabilities, read_calibration
from .onnx_backend import OnnxBackend
from .results import TaskResult, as_batch, label_results, shaped_probabilities
from .scrub import OutletScrubber
from .tfidf import TfidfPredictor, pair_text

if TYPE_CHECKING:  # torch is imported only where a torch model runs: an ONNX folder predicts without it
    from ..model.classifier import NewsClassifier
    from ..model.heads import FolderModel
    from .torch_backend import TorchBackend

POOLED_ARTICLES = 256  # articles whose window vectors are pooled together (bounds the assignment matrix)


class Predictor:
    """Scores articles with every task of a saved model in one encoder pass.

    Args:
        model: a :class:`~inference.model.classifier.NewsClassifier`, or a backend from
            :mod:`inference.prediction.backends` (what :meth:`from_pretrained` builds).
        tokenizer: its tokenizer.
        batch_size: most windows per forward pass; ``None``: about 2,048 tokens' worth on a CPU (8
            windows of 256 tokens), 32 on a GPU (:func:`~inference.prediction.backends.default_batch_size`).
        device: where a torch model runs (``cpu`` or ``cuda``).
        precision: ``fp32`` or ``bf16`` (autocast) for a torch model.
        calibration: per task, how logits become probabilities (:mod:`inference.prediction.fusion`); a task
            left out gets a plain softmax.
        tfidf: the sparse model a calibration fuses in (the folder's ``tfidf/``).
    """

    def __init__(
        self,
        model: NewsClassifier | FolderModel | TorchBackend | OnnxBackend,
        tokenizer: Any,
        batch_size: int | None = None,
        device: str = "cpu",
        precision: str = "fp32",
        calibration: dict[str, TaskCalibration] | None = None,
        tfidf: TfidfPredictor | None = None,
    ) -> None:
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.calibration = dict(calibration or {})
        self.tfidf = tfidf
        fused = [task for task, c in self.calibration.items() if c.tfidf_weight > 0]
        if fused and (tfidf is None or set(fused) - set(tfidf.tasks)):
            raise ValueError(f"tasks {fused} fuse TF-IDF scores, but the sparse model given has no head for them")
        self.backend = _as_backend(model, device, precision)
        self.config = self.backend.config
        self.tokenizer = tokenizer
        self.window = self.config.window_config
        device = getattr(self.backend, "device", "cpu")  # ONNX Runtime runs on the CPU
        self.batch_size = batch_size or default_batch_size(self.window.max_length, device)
        limit = exceeded_limit(self.config.encoder, self.window.max_length)
        if limit is not None:
            raise ValueError(
                f"the model's windows hold {self.window.max_length} tokens but its encoder reads at most {limit} "
                f"({explain_positions(self.config.encoder)}): a long article would crash it"
            )
        fields = standard_fields(self.config.text_fields)
        self.text_fields = list(fields.values())  # title and/or content, whatever the data called them
        # an older model stored its data's column names: articles may still use them
        self._stored_names = {field: name for name, field in fields.items() if name != field}
        names = getattr(self.config, "scrub_names", None)
        self.scrub = None if names is None else OutletScrubber(names)

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        *,
        backend: str = "auto",
        precision: str = "auto",
        batch_size: int | None = None,
        device: str = "cpu",
        num_threads: int | None = None,
    ) -> Predictor | TfidfPredictor:
        """Loads a model folder written by ``newsclf-train`` (no network, no training code).

        A TF-IDF baseline folder written by ``newsclf-baseline`` loads as a
        :class:`~inference.prediction.tfidf.TfidfPredictor`, which answers ``predict`` and ``predict_proba`` in the same
        shapes; it scores with numpy on the CPU, so ``batch_size``, ``device`` and ``num_threads`` do not apply.

        Args:
            path: the model folder (``runs/<name>/model``).
            backend: ``torch``, ``onnx`` (a file written by ``newsclf-export``) or ``auto``: torch
                in bf16 on CPUs with native bf16, else the int8 ONNX file when there is one, else
                torch fp32 (see :func:`inference.prediction.backends.choose_backend`).
            precision: ``fp32`` (exact), ``bf16`` (torch), ``int8`` (ONNX) or ``auto``.
            batch_size: most windows per forward pass; ``None``: sized to the device (see ``Predictor``).
            device: ``cpu`` or ``cuda`` (torch only).
            num_threads: CPU threads for torch and ONNX Runtime; ``None`` keeps their defaults. torch's
                process-wide setting is changed only while the predictor runs, then restored.

        Raises:
            ModelFolderError: the folder, or the ONNX file asked for, is missing or unreadable, or a
                file no longer matches the SHA-256 in the folder's ``manifest.json``.
            ValueError: an unknown or impossible backend/precision combination.

        >>> Predictor.from_pretrained("runs/default/model", backend="torch", precision="fp32")  # doctest: +SKIP
        """
        return cls.from_options(path, PredictOptions(backend, precision, batch_size, num_threads), device=device)

    @classmethod
    def from_options(
        cls, path: str | Path, options: PredictOptions = PredictOptions(), *, device: str = "cpu"
    ) -> Predictor | TfidfPredictor:
        """:meth:`from_pretrained` with its options in one object, as the commands, the worker pool and the
        Ray actors hand them on.

        >>> Predictor.from_options("runs/default/model", PredictOptions(precision="fp32"))  # doctest: +SKIP
        """
        if is_baseline_folder(path):
            return _baseline_predictor(Path(path), options.backend, options.precision)
        folder = check_model_folder(path)
        exported = onnx_files(folder)
        backend, precision = choose_backend(
            options.backend,
            options.precision,
            onnx_files=exported,
            native_bf16=bf16_supported(device),
            device=device,
            have_onnxruntime=onnxruntime_available(),
        )
        extras = {"batch_size": options.batch_size, **_calibration_files(folder)}
        if backend == "torch":
            from .torch_backend import TorchBackend, fuse_for_bf16

            model, tokenizer = load_for_prediction(folder, device=device, verify=False)  # checked above
            if precision == "bf16" and device == "cpu":
                fuse_for_bf16(model)
            return cls(TorchBackend(model, device, precision, options.num_threads), tokenizer, **extras)
        if precision not in exported:
            raise ModelFolderError(
                f"{folder}: no {precision} ONNX model; write one with "
                f"`newsclf-export --model {folder}{' --quantize int8' if precision == 'int8' else ''}`"
            )
        config, tokenizer = load_config_and_tokenizer(folder, verify=False)
        return cls(OnnxBackend(exported[precision], config, precision, options.num_threads), tokenizer, **extras)

    @property
    def model(self) -> NewsClassifier | FolderModel | None:
        """The torch model, or ``None`` under the ONNX backend."""
        return getattr(self.backend, "model", None)

    @property
    def backend_name(self) -> str:
        """Which backend and precision scores articles, e.g. ``torch-bf16`` or ``onnx-int8``."""
        return f"{self.backend.name}-{self.backend.precision}"

    @property
    def tasks(self) -> list[str]:
        """Task names, in the model's order."""
        return list(self.config.task_names)

    def labels(self, task: str) -> list[str]:
        """The labels of ``task``, in the column order of :meth:`predict_proba`."""
        return self.config.task_labels(task)

    def predict_proba(
        self, articles: Article | Sequence[Article], target: str | Sequence[str] | None = None
    ) -> dict[str, np.ndarray]:
        """Class probabilities per task.

        Args:
            articles: one article (a string or a dict of text fields) or a list of them.
            target: for a model of pair tasks (stance toward a claim or headline): one target for
                every article, or one per article; without it, each dict article's ``target`` field.
                A model that also has single-text tasks scores its pair tasks only when targets are
                given, and leaves them out of the result otherwise.

        Returns:
            ``{task: array}``, the array of shape ``(n_articles, n_labels)`` for a list and
            ``(n_labels,)`` for a single article.
        """
        single, batch = as_batch(articles)
        return shaped_probabilities(self._probabilities(batch, target), single)

    def predict(
        self, articles: Article | Sequence[Article], target: str | Sequence[str] | None = None
    ) -> dict[str, TaskResult] | list[dict[str, TaskResult]]:
        """Label, its probability and every label's probability, per task.

        ``target`` is as in :meth:`predict_proba`:

        >>> stance = Predictor.from_pretrained("runs/fnc1/model")  # doctest: +SKIP
        >>> stance.predict({"target": "Spider burrowed into tourist", "content": "..."})  # doctest: +SKIP
        >>> stance.predict(["body one", "body two"], target="Spider burrowed into tourist")  # doctest: +SKIP

        Returns:
            For one article ``{task: {"label": str, "score": float, "scores": {label: float}}}``;
            for a list, a list of those in the input's order.
        """
        single, batch = as_batch(articles)
        probabilities = self._probabilities(batch, target)
        return label_results(probabilities, {task: self.labels(task) for task in probabilities}, len(batch), single)

    def _probabilities(self, batch: list[Article], target: str | Sequence[str] | None) -> dict[str, np.ndarray]:
        single_tasks, pair_tasks = self.config.tasks_of_kind("single"), self.config.tasks_of_kind("pair")
        if not pair_tasks and target is not None:
            raise ValueError(f"this model's tasks {self.tasks} read one text: it takes no target")
        # a model with only pair tasks needs a target; one with both kinds scores pairs when one is given
        given = target is not None or any(isinstance(a, Mapping) and a.get(TARGET_FIELD) is not None for a in batch)
        targets = self._targets(batch, target) if pair_tasks and (given or not single_tasks) else None
        tasks = single_tasks + (pair_tasks if targets is not None else [])
        if not batch:
            return {task: np.zeros((0, len(self.labels(task))), dtype=np.float32) for task in tasks}
        texts = self.texts(batch)
        outputs = {}
        if single_tasks:
            windows = encode_articles(self.tokenizer, texts, self.window)
            outputs.update(self._scores(windows, single_tasks, None, texts))
        if targets is not None:
            windows = encode_pairs(self.tokenizer, targets, texts, self.window)
            pair_texts = [pair_text(target, text) for target, text in zip(targets, texts)]
            outputs.update(self._scores(windows, pair_tasks, self.tokenizer.sep_token_id, pair_texts))
        return {task: outputs[task] for task in self.tasks if task in outputs}

    def _scores(
        self, windows: list[list[list[int]]], tasks: list[str], sep: int | None, texts: list[str]
    ) -> dict[str, np.ndarray]:
        """Probabilities of ``tasks`` for encoded articles (``sep`` given for pairs: adds segment ids), calibrated
        and fused with the sparse model's scores of ``texts`` where the folder says so."""
        logits = {task: np.zeros((len(windows), len(self.labels(task))), dtype=np.float32) for task in tasks}
        for indices, batch in self._article_batches(windows, sep):
            for task, task_logits in zip(self.tasks, batch):
                if task in logits:
                    logits[task][indices] = task_logits
        return self.calibrated(logits, texts)

    def texts(self, articles: Sequence[Article]) -> list[str]:
        """The text the model reads of each article: its text fields joined, outlet names scrubbed where the
        folder says so."""
        texts = [article_text(self._with_standard_fields(article), self.text_fields) for article in articles]
        return texts if self.scrub is None else [self.scrub(text) for text in texts]

    def calibrated(self, logits: dict[str, np.ndarray], texts: list[str]) -> dict[str, np.ndarray]:
        """Each task's probabilities from its ``(articles, labels)`` logits: calibrated, and fused with the sparse
        model's scores of ``texts`` where the folder says so."""
        plain = TaskCalibration()
        fused = [task for task in logits if self.calibration.get(task, plain).tfidf_weight > 0]
        sparse: dict[str, np.ndarray] = {}
        if fused:
            assert self.tfidf is not None  # __init__ refuses tasks that fuse TF-IDF scores without a sparse model
            sparse = self.tfidf.scores(texts, fused)
        return {
            task: fused_probabilities(values, self.calibration.get(task, plain), sparse.get(task))
            for task, values in logits.items()
        }

    def _article_batches(self, windows: list[list[list[int]]], sep: int | None) -> Iterator[tuple[list[int], Any]]:
        """(article indices, each task's logits for them), batch by batch.

        Articles of several windows under torch are encoded window by window, longest first, so a
        batch pads its windows only to the length of others like them (a chunked article's short last
        window is not padded to its full ones); their vectors are then pooled per article."""
        pad = self.tokenizer.pad_token_id
        if isinstance(self.backend, OnnxBackend) or all(len(article) == 1 for article in windows):
            for indices in _length_sorted_batches(windows, self.batch_size):
                yield indices, self.backend(pad_windows([windows[i] for i in indices], pad, sep))
            return
        flat = [window for article in windows for window in article]
        owners = np.array([index for index, article in enumerate(windows) for _ in article])
        vectors: list[Any] = [None] * len(flat)
        for rows in length_sorted_windows(windows, self.batch_size):
            encoded = self.backend.window_vectors(pad_windows([[flat[i]] for i in rows], pad, sep))
            for row, vector in zip(rows, encoded):
                vectors[row] = vector
        first = 0
        for lo in range(0, len(windows), POOLED_ARTICLES):
            indices = list(range(lo, min(lo + POOLED_ARTICLES, len(windows))))
            last = first + sum(len(windows[i]) for i in indices)
            yield indices, self.backend.article_logits(vectors[first:last], owners[first:last] - lo)
            first = last

    def _with_standard_fields(self, article: Article) -> Article:
        """An article of an older model that names none of the standard text fields but the data's
        column names the model stored (``articleBody``), with those read as the standard fields."""
        if not self._stored_names or not isinstance(article, Mapping) or any(f in article for f in self.text_fields):
            return article
        return {**article, **{f: article[name] for f, name in self._stored_names.items() if name in article}}

    def _targets(self, batch: list[Article], target: str | Sequence[str] | None) -> list[str]:
        """One target per article: the ``target`` argument, or each article's ``target`` field."""
        if isinstance(target, str):
            return [article_text(target, [])] * len(batch)
        if target is not None:
            targets = list(target)
            if len(targets) != len(batch):
                raise ValueError(f"{len(targets)} targets for {len(batch)} articles; give one per article or one")
            return [article_text("" if t is None else str(t), []) for t in targets]
        found = []
        for index, article in enumerate(batch):
            value = article.get(TARGET_FIELD) if isinstance(article, Mapping) else None
            if value is None:
                pair_tasks = self.config.tasks_of_kind("pair")
                others = (
                    "" if len(pair_tasks) == len(self.tasks) else "; or no article a target, to score only the others"
                )
                raise ValueError(
                    f"article {index}: this model scores each text against a target (tasks {pair_tasks}); give the "
                    "article a 'target' field, or pass target=... (one string for all articles, or one per article)"
                    + others
                )
            found.append(article_text(str(value), []))
        return found


def _baseline_predictor(folder: Path, backend: str, precision: str) -> TfidfPredictor:
    """A baseline folder's sparse model, refusing the backends and number formats only an encoder has."""
    if backend not in ("auto", "torch") or precision not in ("auto", "fp32"):
        raise ValueError(
            f"{folder}: a TF-IDF baseline written by newsclf-baseline scores in float32 with numpy; "
            f"backend {backend!r} and precision {precision!r} are for models written by newsclf-train "
            "(leave both at auto)"
        )
    return TfidfPredictor.from_pretrained(folder)


def _calibration_files(folder: Path) -> dict[str, Any]:
    """The folder's calibrations and, when they fuse one, its sparse model (already checked with the folder)."""
    calibration = read_calibration(folder)
    fuses = any(c.tfidf_weight > 0 for c in calibration.values())
    if fuses and not (folder / TFIDF_FOLDER).is_dir():
        raise ModelFolderError(f"{folder}: {CALIBRATION_FILE} fuses a TF-IDF model, but {TFIDF_FOLDER}/ is missing")
    tfidf = TfidfPredictor.from_pretrained(folder / TFIDF_FOLDER, verify=False) if fuses else None
    return {"calibration": calibration, "tfidf": tfidf}


def _length_sorted_batches(windows: list[list[list[int]]], batch_size: int) -> list[list[int]]:
    """Groups articles of similar length so little padding is computed; at most ``batch_size``
    windows a batch, except an article that alone has more."""
    order = sorted(range(len(windows)), key=lambda i: -max(len(w) for w in windows[i]))
    batches: list[list[int]] = []
    current: list[int] = []
    count = 0
    for index in order:
        size = len(windows[index])
        if current and count + size > batch_size:
            batches.append(current)
            current, count = [], 0
        current.append(index)
        count += size
    if current:
        batches.append(current)
    return batches


def length_sorted_windows(windows: list[list[list[int]]], batch_size: int) -> list[list[int]]:
    """Batches of indices into the articles' windows laid end to end, longest windows first, so each
    batch pads only to windows of about its own length."""
    lengths = [len(window) for article in windows for window in article]
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]


@functools.lru_cache(maxsize=4)
def _cached_predictor(path: str, backend: str, precision: str) -> Predictor | TfidfPredictor:
    return Predictor.from_pretrained(path, backend=backend, precision=precision)


def predict(
    articles: Article | Sequence[Article],
    model: str | Path,
    *,
    target: str | Sequence[str] | None = None,
    backend: str = "auto",
    precision: str = "auto",
) -> dict[str, TaskResult] | list[dict[str, TaskResult]]:
    """One-line prediction: loads ``model`` (a folder of ``newsclf-train`` or ``newsclf-baseline``) once (cached)
    and predicts (``target`` for pair tasks).

    >>> predict("Senate passes the budget bill", model="runs/default/model")  # doctest: +SKIP
    """
    return _cached_predictor(str(Path(model).resolve()), backend, precision).predict(articles, target=target)


def _as_backend(
    model: NewsClassifier | FolderModel | TorchBackend | OnnxBackend, device: str, precision: str
) -> TorchBackend | OnnxBackend:
    """A backend as given, or a torch model wrapped in one (a torch model or backend exists only once torch is
    imported, so asking costs an ONNX predictor nothing).

    Raises:
        TypeError: ``model`` is neither (a folder's path, say).
    """
    if isinstance(model, OnnxBackend):
        return model
    torch = sys.modules.get("torch")
    if torch is not None:
        from .torch_backend import TorchBackend

        if isinstance(model, TorchBackend):
            return model
        if isinstance(model, torch.nn.Module):
            return TorchBackend(model, device, precision)
    raise TypeError(
        f"Predictor takes a torch model or a backend, got {type(model).__name__}; "
        "to load a model folder use Predictor.from_pretrained(path)"
    )
