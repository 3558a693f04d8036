"""AllSides benchmark: majority class, the TF-IDF baseline and fine-tuned runs, per protocol and task.

    python benchmarks/allsides.py --protocols outlet random \\
        --finetuned outlet=runs/outlet-ft-scrub --output docs/benchmarks.md

Protocols (splits of ``$NEWSCLF_DATA/allsides/splits.csv``): ``outlet`` (outlet-disjoint, the honest
test of leaning), ``random`` (official, in-distribution) and ``media`` (official; not really
outlet-disjoint in the released files, for comparison with published numbers only). The majority
class and TF-IDF + linear SVM are fitted here, from the same configs as the fine-tuned model
(``--scrub`` also fits TF-IDF on scrubbed text); fine-tuned numbers are read from the
``metrics.json`` of runs trained with ``newsclf-train``. Validation picks settings; each test set is
scored once per reported run. The table replaces the AllSides section of ``--output``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from training.baseline import fit_baseline
from training.config import Config, load_config
from training.data import check_eval_labels, fit_labels, load_splits
from training.metrics import task_scores

ROOT = Path(__file__).resolve().parents[1]

PROTOCOLS = {
    "outlet": ("allsides-outlet.yaml", []),
    "random": ("allsides.yaml", []),
    "media": ("allsides.yaml", ["data.split.column=media_split"]),
}
BEGIN, END = "<!-- allsides:begin -->", "<!-- allsides:end -->"


def majority(config: Config) -> dict[str, dict[str, dict[str, Any]]]:
    """Scores of always predicting each task's most frequent training label."""
    splits = load_splits(config)
    label_lists = fit_labels(config, splits["train"])
    splits = check_eval_labels(config, splits, label_lists)
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for split in ("validation", "test"):
        if split not in splits:
            continue
        result[split] = {}
        for task, labels in label_lists.items():
            top = labels.index(Counter(splits["train"][f"label_{task}"]).most_common(1)[0][0])
            truth = [labels.index(label) for label in splits[split][f"label_{task}"]]
            result[split][task] = task_scores(truth, [top] * len(truth), labels)
    return result


def cached_baseline(config: Config, cache: Path | None) -> dict[str, Any]:
    """Fits the TF-IDF baseline, or reuses the metrics of an identical earlier fit kept in ``cache``."""
    settings = config.to_dict()
    settings.pop("source", None)
    settings["run"].pop("name", None)
    key = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    path = cache / f"tfidf-{key}.json" if cache else None
    if path is not None and path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    _, metrics = fit_baseline(config)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(metrics), encoding="utf-8")
    return metrics


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def rows_for(protocol: str, method: str, metrics: dict[str, Any]) -> list[str]:
    rows = []
    for split, per_task in metrics.items():
        for task, scores in per_task.items():
            rows.append(
                f"| {task} | {protocol} {split} | {method} | {100 * scores['accuracy']:.1f} | "
                f"{100 * scores['macro_f1']:.1f} | {scores['support']} |"
            )
    return rows


def run(args: argparse.Namespace) -> str:
    lines = [
        "## AllSides: topic and leaning",
        "",
        f"Command: `python benchmarks/allsides.py {' '.join(args.argv)}`  ",
        f"Machine: {machine()}  ",
        f"Date: {date.today().isoformat()}",
        "",
        "| task | protocol / split | method | accuracy | macro-F1 | n |",
        "|---|---|---|---|---|---|",
    ]
    costs = []
    finetuned = dict(item.split("=", 1) for item in args.finetuned)
    for protocol in args.protocols:
        name, overrides = PROTOCOLS[protocol]
        base = [*overrides, "data.unseen_label=drop", *args.set]
        config = load_config(ROOT / "configs" / name, base)
        table: list[str] = rows_for(protocol, "majority class", majority(config))
        variants = [("TF-IDF + linear SVM", [])] + (
            [("TF-IDF + linear SVM, scrubbed", ["data.scrub_column=source"])] if args.scrub else []
        )
        for label, extra in variants:
            metrics = cached_baseline(load_config(ROOT / "configs" / name, base + extra), args.cache)
            table += rows_for(protocol, label, metrics["splits"])
            costs.append(f"| {protocol} | {label} | {metrics['train']['seconds']:.0f} s fit | – |")
        if protocol in finetuned:
            run_dir = Path(finetuned[protocol])
            metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
            saved = load_config(run_dir / "config.yaml")
            label = (
                f"fine-tuned {Path(saved.model.name).name}, {saved.model.window} {saved.model.max_length}"
                + (", scrubbed" if saved.data.scrub_column else "")
                + f" ({run_dir.name})"
            )
            table += rows_for(protocol, label, metrics["splits"])
            train = metrics["train"]
            costs.append(
                f"| {protocol} | {label} | {train['seconds'] / 60:.0f} min training | "
                f"{train['samples_per_second'] or 0:.1f} |"
            )
        lines += sorted(table, key=lambda row: row.split("|")[1])
    lines += [
        "",
        "Training cost (2 CPU cores):",
        "",
        "| protocol | method | time | samples/s |",
        "|---|---|---|---|",
        *costs,
        "",
    ]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmarks\n\n"
    block = f"{BEGIN}\n{section}\n{END}"
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + block + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


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
    parser.add_argument("--scrub", action="store_true", help="also fit TF-IDF on outlet-scrubbed text")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="config overrides for every fit")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
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
    write_section(args.output, section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
