"""TF-IDF + linear SVM, one per task: the strong, cheap baseline every fine-tuned model must beat.

    python -m training.baseline --config configs/allsides-outlet.yaml --set run.name=tfidf-outlet
    python -m training.evaluate --model runs/tfidf-outlet/model --data FILE   # same evaluate command

Trained from the same config as the transformer (same files, splits, tasks, label maps and
scrubbing). Word uni- and bigrams, sublinear TF, one shared vocabulary; each task's SVM cost C is
picked on the validation split. The saved folder holds ``baseline.json`` (vectorizer settings and
vocabulary), ``weights.safetensors`` (IDF and each task's coefficients) and ``labels.json``; it
loads without unpickling anything.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file
from scipy.special import softmax
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from inference.loading import verify_checksums
from inference.manifest import write_manifest
from inference.scrub import OutletScrubber
from inference.windowing import article_text

from .config import Config, ConfigError, load_config, save_config
from .data import DataError, label_ids, load_task_data
from .metrics import format_report, summarise, task_scores
from .overwrite import InputOverwriteError
from .runs import RunFolderError, prepare_run_folder, remove_unstarted
from .saving import write_json_atomic, write_text_atomic

BASELINE_FILE = "baseline.json"
VECTORIZER = {"ngram_range": (1, 2), "min_df": 2, "max_df": 0.9, "sublinear_tf": True, "max_features": 200_000}
COSTS = (0.1, 0.3, 1.0)


class TfidfPredictor:
    """A fitted TF-IDF + linear SVM per task, with :class:`inference.Predictor`'s interface.

    ``predict_proba`` returns a softmax of the SVM decision values: a ranking of the labels, not a
    calibrated probability.
    """

    def __init__(
        self,
        vectorizer: TfidfVectorizer,
        heads: dict[str, tuple[np.ndarray, np.ndarray]],
        label_lists: dict[str, list[str]],
        text_fields: list[str],
        scrub_names: list[str] | None = None,
    ) -> None:
        self.vectorizer = vectorizer
        self.heads = heads
        self.label_lists = label_lists
        self.text_fields = text_fields
        self.scrub_names = scrub_names
        self.scrub = None if scrub_names is None else OutletScrubber(scrub_names)

    @property
    def tasks(self) -> list[str]:
        return list(self.label_lists)

    def labels(self, task: str) -> list[str]:
        return list(self.label_lists[task])

    def decision(self, articles: list[Any]) -> dict[str, np.ndarray]:
        texts = [article_text(article, self.text_fields) for article in articles]
        if self.scrub is not None:
            texts = [self.scrub(text) for text in texts]
        features = self.vectorizer.transform(texts)
        return {task: features @ coef.T + intercept for task, (coef, intercept) in self.heads.items()}

    def predict_proba(self, articles: list[Any], target: Any = None) -> dict[str, np.ndarray]:
        """Class probabilities per task (softmax of the SVM scores); a pair's target is read before its text."""
        articles = list(articles)
        if target is not None:
            targets = [target] * len(articles) if isinstance(target, str) else list(target)
            articles = [f"{t}\n\n{article_text(a, self.text_fields)}" for t, a in zip(targets, articles)]
        result = {}
        for task, scores in self.decision(articles).items():
            result[task] = softmax(np.asarray(scores, dtype=np.float64), axis=1).astype(np.float32)
        return result

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        vocabulary = sorted(self.vectorizer.vocabulary_, key=self.vectorizer.vocabulary_.get)
        settings = {k: list(v) if isinstance(v, tuple) else v for k, v in VECTORIZER.items()}
        meta = {
            "kind": "tfidf-linear-svm",
            "vectorizer": settings,
            "vocabulary": vocabulary,
            "labels": self.label_lists,
            "text_fields": self.text_fields,
            "scrub_names": self.scrub_names,
        }
        write_json_atomic(folder / BASELINE_FILE, meta)
        tensors = {"idf": self.vectorizer.idf_.astype(np.float32)}
        for task, (coef, intercept) in self.heads.items():
            tensors[f"{task}.coef"] = np.ascontiguousarray(coef, dtype=np.float32)
            tensors[f"{task}.intercept"] = np.asarray(intercept, dtype=np.float32)
        save_file(tensors, str(folder / "weights.safetensors"))
        labels = {
            task: {"kind": "single", "id2label": {str(i): label for i, label in enumerate(labels)}}
            for task, labels in self.label_lists.items()
        }
        write_json_atomic(folder / "labels.json", labels)

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> TfidfPredictor:
        folder = Path(folder)
        verify_checksums(folder)
        meta = json.loads((folder / BASELINE_FILE).read_text(encoding="utf-8"))
        tensors = load_file(str(folder / "weights.safetensors"))
        settings = dict(meta["vectorizer"], ngram_range=tuple(meta["vectorizer"]["ngram_range"]))
        vectorizer = TfidfVectorizer(
            vocabulary={term: i for i, term in enumerate(meta["vocabulary"])},
            **{k: v for k, v in settings.items() if k not in ("min_df", "max_df", "max_features")},
        )
        vectorizer.idf_ = tensors["idf"].astype(np.float64)
        heads = {task: (tensors[f"{task}.coef"], tensors[f"{task}.intercept"]) for task in meta["labels"]}
        return cls(vectorizer, heads, meta["labels"], meta["text_fields"], meta.get("scrub_names"))


def _texts(part: Any) -> list[str]:
    """The texts TF-IDF reads: for pair tasks, the target and then the text."""
    if "target" not in part.column_names:
        return list(part["text"])
    return [f"{target}\n\n{text}" for target, text in zip(part["target"], part["text"])]


def is_baseline_folder(folder: str | Path) -> bool:
    return (Path(folder) / BASELINE_FILE).is_file()


def fit_baseline(config: Config) -> tuple[TfidfPredictor, dict[str, Any]]:
    """Fits the vectorizer on the training split and one SVM per task, C chosen on validation."""
    if config.datasets:
        raise ConfigError(
            f"datasets {sorted(config.datasets)}: the TF-IDF baseline fits one dataset at a time; "
            "run it with each dataset's own config (e.g. configs/allsides.yaml, configs/fnc1.yaml)"
        )
    splits, label_lists, scrub_names = load_task_data(config)
    started = time.perf_counter()
    vectorizer = TfidfVectorizer(**VECTORIZER)
    train_features = vectorizer.fit_transform(_texts(splits["train"]))
    eval_features = {name: vectorizer.transform(_texts(part)) for name, part in splits.items() if name != "train"}
    heads, chosen = {}, {}
    for task, labels in label_lists.items():
        y = np.array(label_ids(splits["train"][f"label_{task}"], labels))
        best = None
        for cost in COSTS if "validation" in splits else (COSTS[1],):
            svm = LinearSVC(C=cost).fit(train_features, y)
            score = 0.0
            if "validation" in splits:
                truth = label_ids(splits["validation"][f"label_{task}"], labels)
                score = task_scores(truth, svm.predict(eval_features["validation"]), labels)["macro_f1"]
            if best is None or score > best[0]:
                best = (score, cost, svm)
        _, chosen[task], svm = best
        coef, intercept = _full_rank(svm, len(labels))
        heads[task] = (coef, intercept)
    seconds = time.perf_counter() - started
    predictor = TfidfPredictor(vectorizer, heads, label_lists, list(config.data.text_fields), scrub_names)
    metrics: dict[str, Any] = {
        "train": {"seconds": round(seconds, 1), "C": chosen, "features": len(vectorizer.vocabulary_)},
        "splits": {},
        "summary": {},
    }
    for name in ("validation", "test"):
        if name not in splits or (name == "test" and not config.evaluation.test):
            continue
        decisions = {task: eval_features[name] @ coef.T + intercept for task, (coef, intercept) in heads.items()}
        per_task = {}
        for task, labels in label_lists.items():
            truth = label_ids(splits[name][f"label_{task}"], labels)
            per_task[task] = task_scores(truth, np.asarray(decisions[task]).argmax(1), labels)
        metrics["splits"][name] = per_task
        metrics["summary"][name] = summarise(per_task)
    return predictor, metrics


def _full_rank(svm: LinearSVC, classes: int) -> tuple[np.ndarray, np.ndarray]:
    """LinearSVC keeps one row for two classes; make it one row per class like the multi-class case."""
    coef, intercept = svm.coef_, svm.intercept_
    if classes == 2 and coef.shape[0] == 1:
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return coef.astype(np.float32), intercept.astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newsclf-baseline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="configs/default.yaml")
    parser.add_argument("--set", dest="overrides", nargs="+", action="extend", default=[], metavar="KEY=VALUE")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    args = parser.parse_args(argv)
    run_dir = None
    try:
        config = load_config(args.config, args.overrides)
        run_dir = prepare_run_folder(config, resume=False, overwrite=args.overwrite)
        save_config(config, run_dir / "config.yaml")
        predictor, metrics = fit_baseline(config)
    except (ConfigError, DataError, RunFolderError, InputOverwriteError) as error:
        if run_dir is not None:  # made by this call, and nothing fitted: leave no folder behind
            remove_unstarted(run_dir)
        print(f"error: {error}", file=sys.stderr)
        return 2
    model_dir = run_dir / "model"
    predictor.save(model_dir)
    save_config(config, model_dir / "training_config.yaml")
    write_json_atomic(model_dir / "metrics.json", metrics)
    write_manifest(model_dir)  # last: the SHA-256 of every file of the folder, checked at load
    write_json_atomic(run_dir / "metrics.json", metrics)
    reports = []
    for split, per_task in metrics["splits"].items():
        reports += [f"[{split}] " + format_report(task, scores) for task, scores in per_task.items()]
    write_text_atomic(run_dir / "report.txt", "\n\n".join(reports) + "\n")
    print("\n\n".join(reports))
    print(f"\nfitted in {metrics['train']['seconds']} s (C per task: {metrics['train']['C']}); saved to {model_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
