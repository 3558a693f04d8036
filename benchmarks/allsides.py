"""AllSides benchmark: majority class, the TF-IDF baseline and fine-tuned runs, per protocol and task.

    python benchmarks/allsides.py --protocols outlet random --train outlet random --scrub outlet --ensemble
    python benchmarks/allsides.py --protocols outlet random --scrub outlet --ensemble \\
        --finetuned outlet=runs/outlet-bf16-e2 random=runs/random-bf16-e2     # runs trained before

Protocols (splits of ``$NEWSCLF_DATA/allsides/splits.csv``): ``outlet`` (outlet-disjoint, the honest
test of leaning), ``random`` (official, in-distribution) and ``media`` (official; not really
outlet-disjoint in the released files, for comparison with published numbers only). The majority
class and TF-IDF + linear SVM are fitted here, from the same configs as the fine-tuned model
(``--scrub`` also fits TF-IDF on scrubbed text); ``--train`` fine-tunes a protocol from its config
(about an hour each on 2 CPU cores), ``--finetuned`` reads the ``metrics.json`` of runs trained
before with ``newsclf-train``; ``--ensemble`` mixes each fine-tuned model with the TF-IDF one.
Validation picks settings; each test set is scored once per reported run. The table replaces the
AllSides section of ``--output``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import torch
from common import describe_machine, replace_section
from scipy.special import softmax

from inference import Predictor
from inference.atomic import atomic_writer, write_json
from inference.prediction.backends import bf16_supported
from inference.prediction.tfidf import TfidfPredictor
from training.config import Config, load_config
from training.data import check_eval_labels, fit_labels, label_ids, load_splits
from training.fitting.recipe import train
from training.scoring.metrics import task_scores
from training.scoring.tfidf_baseline import fit_baseline

ROOT = Path(__file__).resolve().parents[1]

PROTOCOLS = {
    "outlet": ("allsides-outlet.yaml", []),
    "random": ("allsides.yaml", []),
    "media": ("allsides.yaml", ["data.split.column=media_split"]),
}
BEGIN, END = "<!-- allsides:begin -->", "<!-- allsides:end -->"


Splits = dict[str, Any]


def prepared_splits(config: Config) -> tuple[Splits, dict[str, list[str]]]:
    """The protocol's splits, read once, with each task's labels and unseen evaluation labels handled."""
    splits = load_splits(config)
    label_lists = fit_labels(config, splits["train"])
    return check_eval_labels(config, splits, label_lists), label_lists


def majority(splits: Splits, label_lists: dict[str, list[str]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Scores of always predicting each task's most frequent training label."""
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for split in ("validation", "test"):
        if split not in splits:
            continue
        result[split] = {}
        for task, labels in label_lists.items():
            top = labels.index(Counter(splits["train"][f"label_{task}"]).most_common(1)[0][0])
            truth = label_ids(splits[split][f"label_{task}"], labels)
            result[split][task] = task_scores(truth, [top] * len(truth), labels)
    return result


def cached_baseline(config: Config, cache: Path | None) -> tuple[Path | None, dict[str, Any]]:
    """Fits the TF-IDF baseline, or reuses an identical earlier fit kept in ``cache``.

    Returns the saved model folder (``None`` without a cache) and the fit's metrics.
    """
    settings = config.to_dict()
    settings.pop("source", None)
    settings["run"].pop("name", None)
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    folder = cache / f"tfidf-{key}" if cache else None
    if folder is not None and (folder / "metrics.json").is_file():
        return folder, json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    predictor, metrics = fit_baseline(config)
    if folder is not None:
        predictor.save(folder)
        write_json(folder / "metrics.json", metrics)  # written last: marks the fit complete
    return folder, metrics


def ensemble(
    splits: Splits, run_dir: Path, tfidf_dir: Path, cache: Path | None
) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, tuple[float, float]]]:
    """Averages the fine-tuned model's probabilities with the TF-IDF model's, per task.

    Both models read the raw split texts and apply the scrubbing they were trained with.

    The TF-IDF share ``w`` and the sharpness ``t`` of its softmax over SVM scores are chosen on the
    validation split (by macro-F1); the test split is then scored once with those settings.
    """
    finetuned = Predictor.from_pretrained(run_dir / "model", batch_size=64)
    tfidf = TfidfPredictor.from_pretrained(tfidf_dir)
    present = [split for split in ("validation", "test") if split in splits]
    weights = run_dir / "model" / "model.safetensors"
    model_key = hashlib.sha256(f"{weights.resolve()}:{weights.stat().st_mtime_ns}".encode()).hexdigest()[:8]
    scored: dict[str, dict[str, Any]] = {}
    for split in present:
        texts = list(splits[split]["text"])
        path = cache / f"probs-{run_dir.name}-{model_key}-{split}.npz" if cache else None
        if path is not None and path.is_file():
            with np.load(path, allow_pickle=False) as saved:
                probs = {task: saved[task] for task in saved.files}
        else:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16_supported()):  # as the Trainer scored it
                probs = finetuned.predict_proba(texts)
            if path is not None:
                with atomic_writer(path, binary=True) as out:
                    np.savez(out, **probs)
        scored[split] = {"finetuned": probs, "tfidf": tfidf.decision(texts)}
    result: dict[str, dict[str, dict[str, Any]]] = {split: {} for split in present}
    chosen: dict[str, tuple[float, float]] = {}
    for task in finetuned.tasks:
        labels = finetuned.labels(task)
        truth = {s: label_ids(splits[s][f"label_{task}"], labels) for s in result}

        def mix(split: str, share: float, sharpness: float, task: str = task) -> np.ndarray:
            tfidf_probs = softmax(np.asarray(scored[split]["tfidf"][task], dtype=np.float64) * sharpness, axis=1)
            return (1 - share) * scored[split]["finetuned"][task] + share * tfidf_probs

        grid = [(w, t) for w in (0.0, 0.25, 0.5, 0.75, 1.0) for t in (1.0, 3.0, 10.0)]
        validation_f1 = {wt: task_scores(truth["validation"], mix("validation", *wt).argmax(1), labels) for wt in grid}
        best = max(grid, key=lambda wt: validation_f1[wt]["macro_f1"])
        chosen[task] = best
        for split in result:
            result[split][task] = task_scores(truth[split], mix(split, *best).argmax(1), labels)
    return result, chosen


def trained_run(config_name: str, overrides: list[str], protocol: str) -> Path:
    """Fine-tunes ``protocol`` from its config into ``runs/allsides-<protocol>``, resuming a run left unfinished."""
    config = load_config(ROOT / "configs" / config_name, [f"run.name=allsides-{protocol}", *overrides])
    run_dir = Path(config.run.output_dir) / config.run.name
    if (run_dir / "metrics.json").is_file():
        return run_dir
    return train(config, resume=run_dir.is_dir())


def rows_for(protocol: str, method: str, metrics: dict[str, Any]) -> list[str]:
    rows = []
    for split, per_task in metrics.items():
        for task, scores in per_task.items():
            rows.append(
                f"| {task} | {protocol} {split} | {method} | {100 * scores['accuracy']:.1f} | "
                f"{100 * scores['macro_f1']:.1f} | {scores['support']} |"
            )
    return rows


def finetuned_rows(
    protocol: str,
    run_dir: Path,
    splits: Splits,
    tfidf_dir: Path | None,
    args: argparse.Namespace,
    costs: list[str],
    notes: list[str],
) -> list[str]:
    """Table rows of the fine-tuned run in ``run_dir`` and, with ``--ensemble``, of its mix with TF-IDF;
    appends its training cost to ``costs`` and the chosen ensemble weights to ``notes``."""
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    saved = load_config(run_dir / "config.yaml")
    label = (
        f"fine-tuned {Path(saved.model.name).name}, {saved.model.window} {saved.model.max_length}"
        + (", scrubbed" if saved.data.scrub_column else "")
        + f" ({run_dir.name})"
    )
    table = rows_for(protocol, label, metrics["splits"])
    train = metrics["train"]
    costs.append(
        f"| {protocol} | {label} | {train['seconds'] / 60:.0f} min training | {train['samples_per_second'] or 0:.1f} |"
    )
    if args.ensemble and tfidf_dir is not None and "validation" in metrics["splits"]:
        scores, chosen = ensemble(splits, run_dir, tfidf_dir, args.cache)  # each model scrubs as it was trained
        table += rows_for(protocol, f"ensemble: {label} + TF-IDF", scores)
        notes.append(
            f"Ensemble weights on {protocol} (TF-IDF share w, softmax sharpness t, chosen on validation): "
            + ", ".join(f"{task} w={w:g} t={t:g}" for task, (w, t) in chosen.items())
        )
    return table


def run(args: argparse.Namespace) -> str:
    lines = [
        "## AllSides: topic and leaning",
        "",
        f"Command: `python benchmarks/allsides.py {' '.join(args.argv)}`  ",
        f"Machine: {describe_machine()}  ",
        f"Date: {date.today().isoformat()}",
        "",
        "| task | protocol / split | method | accuracy | macro-F1 | n |",
        "|---|---|---|---|---|---|",
    ]
    costs: list[str] = []
    notes: list[str] = []
    finetuned = dict(item.split("=", 1) for item in args.finetuned)
    for protocol in args.protocols:
        name, overrides = PROTOCOLS[protocol]
        base = [*overrides, "data.unseen_label=drop", *args.set]
        splits, label_lists = prepared_splits(load_config(ROOT / "configs" / name, base))
        table: list[str] = rows_for(protocol, "majority class", majority(splits, label_lists))
        variants = [("TF-IDF + linear SVM", ["data.scrub_column=null"])] + (
            [("TF-IDF + linear SVM, scrubbed", ["data.scrub_column=source"])]
            if args.scrub is not None and (not args.scrub or protocol in args.scrub)
            else []
        )
        tfidf_dirs = {}
        for label, extra in variants:
            fit_config = load_config(ROOT / "configs" / name, base + extra)
            tfidf_dirs[bool(fit_config.data.scrub_column)], metrics = cached_baseline(fit_config, args.cache)
            table += rows_for(protocol, label, metrics["splits"])
            costs.append(f"| {protocol} | {label} | {metrics['train']['seconds']:.0f} s fit | – |")
        if protocol in args.train and protocol not in finetuned:
            finetuned[protocol] = str(trained_run(name, base, protocol))
        if protocol in finetuned:
            tfidf_dir = tfidf_dirs.get(False)  # the plain baseline; each model reads text its own way
            table += finetuned_rows(protocol, Path(finetuned[protocol]), splits, tfidf_dir, args, costs, notes)
        lines += sorted(table, key=lambda row: row.split("|")[1])
    lines += [
        "",
        "Training cost (2 CPU cores):",
        "",
        "| protocol | method | time | samples/s |",
        "|---|---|---|---|",
        *costs,
        "",
        *[f"{note}  " for note in notes],
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--protocols", nargs="+", choices=sorted(PROTOCOLS), default=["outlet", "random"])
    parser.add_argument(
        "--finetuned",
        nargs="*",
        default=[],
        metavar="PROTOCOL=RUN_DIR",
        help="fine-tuned run folders to report, e.g. outlet=runs/outlet-ft",
    )
    parser.add_argument(
        "--train",
        nargs="*",
        default=[],
        metavar="PROTOCOL",
        help="fine-tune these protocols from their configs (runs/allsides-<protocol>, resumed if unfinished)",
    )
    parser.add_argument(
        "--scrub",
        nargs="*",
        metavar="PROTOCOL",
        help="also fit TF-IDF on outlet-scrubbed text, for these protocols (all if none named)",
    )
    parser.add_argument(
        "--ensemble", action="store_true", help="also score each fine-tuned run mixed with its protocol's plain TF-IDF"
    )
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="config overrides for every fit")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "results.md")
    parser.add_argument(
        "--cache",
        type=Path,
        default=ROOT / "runs" / "benchmark-cache",
        help="reuse TF-IDF results of identical configs from this folder (--cache '' to refit)",
    )
    args = parser.parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])
    args.cache = args.cache if args.cache and str(args.cache) not in ("", ".") else None
    section = run(args)
    replace_section(args.output, BEGIN, END, section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
