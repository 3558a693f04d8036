"""Few-shot topic classification on BBC News: the frozen-encoder probe against TF-IDF on the same few articles.

    python benchmarks/few_shot.py --output docs/results.md          # ~3 min on 2 CPU cores
    python benchmarks/few_shot.py --sizes 8 16 --seeds 0 1 --set model.max_length=256

BBC News (``$NEWSCLF_DATA`` or ``../shared/data``, ``bbc_news/bbc_news.jsonl``) is deduplicated by body, and a
fixed, seeded test set of ``--test-per-class`` articles per category is held out once. For each seed and size k,
k articles per category are drawn from the rest; on exactly those, ``newsclf-train`` in ``training.mode: probe``
(the packaged MiniLM frozen, heads fitted on its article vectors) and the TF-IDF + linear SVM baseline are
trained with no validation split (few-shot users have none: each picks its penalty by 5-fold cross-validation on
the k articles), and both are scored on the test set. The test set's vectors are cached after the first run, so
later runs embed only their k articles.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from statistics import mean, stdev

from common import describe_machine, publish

from training.config import load_config
from training.fitting.recipe import train
from training.scoring.tfidf_baseline import fit_baseline

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- few-shot:begin -->", "<!-- few-shot:end -->"
PROBE = ["training.mode=probe", "model.window=chunks", "model.max_length=128", "model.max_windows=8"]
QUIET = ["evaluation.example=false", "evaluation.confusion_matrices=false", "training.calibrate=false"]


def unique_articles(path: Path) -> list[dict]:
    """The BBC articles, the first of each body kept (133 bodies appear twice)."""
    seen, rows = set(), []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if row["content"].strip() not in seen:
                seen.add(row["content"].strip())
                rows.append(row)
    return rows


def by_category(rows: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(row["category"], []).append(row)
    return groups


def held_out(rows: list[dict], per_class: int) -> tuple[list[dict], dict[str, list[dict]]]:
    """A fixed test set (seed 0) of ``per_class`` articles per category, and the rest by category."""
    rng, test, pool = random.Random(0), [], {}
    for category, group in sorted(by_category(rows).items()):
        group = sorted(group, key=lambda row: row["id"])  # the same test set whatever the file's order
        rng.shuffle(group)
        test += group[:per_class]
        pool[category] = group[per_class:]
    return test, pool


def draw(pool: dict[str, list[dict]], k: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return [row for _, group in sorted(pool.items()) for row in rng.sample(group, k)]


def score_both(train_rows: list[dict], test: list[dict], work: Path, name: str, extra: list[str]) -> dict[str, float]:
    """Test accuracy and macro-F1 of the probe and of TF-IDF trained on ``train_rows``."""
    data = work / f"{name}.jsonl"
    rows = [{**row, "split": "train"} for row in train_rows] + [{**row, "split": "test"} for row in test]
    data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    settings = [
        f"data.train_file={data}",
        "data.group_column=null",
        "tasks=[{name: category, label_column: category}]",
        f"run.output_dir={work / 'runs'}",
        f"run.name={name}",
        f"training.feature_cache={work / 'feature-cache'}",
        *QUIET,
        *PROBE,
        *extra,
    ]
    config = load_config(ROOT / "configs" / "default.yaml", settings)
    run = train(config, overwrite=True, update_latest=False, quiet=True)
    probe = json.loads((run / "metrics.json").read_text())["splits"]["test"]["category"]
    _, tfidf = fit_baseline(load_config(ROOT / "configs" / "default.yaml", settings))
    tfidf = tfidf["splits"]["test"]["category"]
    return {
        "probe_accuracy": probe["accuracy"],
        "probe_macro_f1": probe["macro_f1"],
        "tfidf_accuracy": tfidf["accuracy"],
        "tfidf_macro_f1": tfidf["macro_f1"],
    }


def table(results: dict[int, list[dict[str, float]]], test_size: int) -> str:
    def cell(values: list[float]) -> str:
        spread = f" ± {100 * stdev(values):.1f}" if len(values) > 1 else ""
        return f"{100 * mean(values):.1f}{spread}"

    header = "| per class | seeds | probe acc | TF-IDF acc | probe macro-F1 | TF-IDF macro-F1 | probe ≥ TF-IDF |"
    lines = [header, "|---|---|---|---|---|---|---|"]
    for k, runs in sorted(results.items()):
        wins = sum(run["probe_macro_f1"] >= run["tfidf_macro_f1"] for run in runs)
        columns = ["probe_accuracy", "tfidf_accuracy", "probe_macro_f1", "tfidf_macro_f1"]
        lines.append(
            f"| {k} | {len(runs)} | "
            + " | ".join(cell([run[c] for run in runs]) for c in columns)
            + f" | {wins}/{len(runs)} |"
        )
    lines.append(f"\nMean ± standard deviation over the seeds; {test_size} held-out test articles (5 categories).")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("NEWSCLF_DATA", str(ROOT.parent / "shared" / "data")))
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 16, 64], help="training articles per class")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--test-per-class", type=int, default=100)
    parser.add_argument("--set", dest="extra", nargs="+", default=[], help="more config overrides for the probe")
    parser.add_argument("--work", help="folder for runs and the vector cache (default: a temporary one)")
    parser.add_argument("--output", help="also write the table into this Markdown file")
    args = parser.parse_args(argv)
    source = Path(args.data) / "bbc_news" / "bbc_news.jsonl"
    if not source.is_file():
        print(f"error: {source} not found (set --data or NEWSCLF_DATA)", file=sys.stderr)
        return 2
    test, pool = held_out(unique_articles(source), args.test_per_class)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(args.work or temporary)
        work.mkdir(parents=True, exist_ok=True)
        results = {
            k: [score_both(draw(pool, k, seed), test, work, f"bbc-{k}-{seed}", args.extra) for seed in args.seeds]
            for k in args.sizes
        }
    command = "python benchmarks/few_shot.py " + " ".join(argv if argv is not None else sys.argv[1:])
    section = (
        f"## Few-shot topics: BBC News\n\n{describe_machine()}, {date.today()}, "
        f"{time.perf_counter() - started:.0f} s; `{command.strip()}`; probe settings: `{' '.join(PROBE)}`\n\n"
        + table(results, len(test))
    )
    publish(section, args.output, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
