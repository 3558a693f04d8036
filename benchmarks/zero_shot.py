"""From zero labels to a model: zero-shot heads, then the probe on 4-64 labels a class chosen at random or by
suggest's rule, beside TF-IDF on the same labels; and a zero-shot model's speed against an NLI-style pipeline.

    python benchmarks/zero_shot.py --work runs/zero-shot --output docs/results.md
    python benchmarks/zero_shot.py --datasets bbc --sizes 0 4 8 --seeds 0 1

Data (``$NEWSCLF_DATA`` or ``../shared/data``): BBC News (deduplicated; the fixed test set of benchmarks/few_shot.py,
100 a category, is scored, the rest is the pool) and AllSides' 19 coarse sections (a seeded pool of ``--pool``
articles of the outlet split's training outlets; ``--evaluate`` articles of its validation outlets scored; the test
outlets are not read). Descriptions: benchmarks/descriptions.yaml, written from the category names before any
score. The packaged MiniLM reads one window of 128 tokens; every article is embedded once into the feature cache.

Per seed and labels-a-class k (k x classes labels in all, not balanced: a user without labels cannot balance):
``random`` draws them at random from the pool; ``suggest`` starts from the zero-shot model and, at each k, adds
the articles :func:`training.labelling.suggest.diverse_uncertain` picks by the current model's margins, then fits
again (rounds as a user labels them). The probe (:func:`training.heads.probe.fit_probe`, penalty by cross-validation on
the labels) is pulled toward the zero-shot heads (``descriptions``) and, for the random draws, also fitted
without them; TF-IDF + linear SVM is fitted on the random draws.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import random
import sys
import time
from datetime import date
from pathlib import Path
from statistics import mean, stdev

import numpy as np
import torch
import transformers
import yaml
from common import describe_machine, publish
from datasets import Dataset
from few_shot import held_out, unique_articles

from inference.model.windowing import collate_windows, encode_articles, encode_pairs
from training.config import load_config
from training.fitting.building import build_model, tokenize
from training.heads.descriptions import zero_shot_head
from training.heads.feature_cache import FeatureCache
from training.heads.probe import fit_probe
from training.labelling.suggest import diverse_uncertain, top_two_margins
from training.model.encoders import resolve_encoder
from training.scoring.metrics import task_scores
from training.scoring.tfidf_baseline import fit_tfidf

ROOT = Path(__file__).resolve().parents[1]
SECTION = "zero-shot-{}"  # each dataset's section has its own markers, so a dataset can be rerun alone
READING = ["model.window=head", "model.max_length=128", "training.bf16=false"]


def bbc(data: Path, pool_size: int, evaluate: int) -> tuple[list[dict], list[dict]]:
    test, rest = held_out(unique_articles(data / "bbc_news" / "bbc_news.jsonl"), 100)
    pool = [row for group in rest.values() for row in group]
    return [{**row, "label": row["category"]} for row in pool], [{**row, "label": row["category"]} for row in test]


def allsides(data: Path, pool_size: int, evaluate: int) -> tuple[list[dict], list[dict]]:
    folder = data / "allsides"
    with (folder / "splits.csv").open(encoding="utf-8") as lines:
        split = {row["id"]: row["outlet_split"] for row in csv.DictReader(lines)}
    sections = yaml.safe_load((ROOT / "configs" / "taxonomies" / "allsides_coarse.yaml").read_text(encoding="utf-8"))
    parts: dict[str, list[dict]] = {"train": [], "valid": []}
    with gzip.open(folder / "articles.jsonl.gz", "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            if split.get(row["id"]) in parts and row.get("topic") in sections:
                parts[split[row["id"]]].append({**row, "label": sections[row["topic"]]})
    rng = random.Random(0)
    return rng.sample(parts["train"], pool_size), rng.sample(parts["valid"], evaluate)


DATASETS = {"bbc": ("bbc_news", bbc), "allsides": ("allsides_coarse", allsides)}


class Encoded:
    """A dataset's pool and evaluation rows, their unit article vectors, and the zero-shot head of its labels."""

    def __init__(self, name: str, pool: list[dict], evaluation: list[dict], descriptions: dict, work: Path):
        self.pool, self.evaluation = pool, evaluation
        self.labels = sorted(descriptions)
        task = f"{{name: topic, label_column: label, descriptions: {json.dumps(descriptions)}}}"
        self.config = load_config(
            ROOT / "configs" / "default.yaml",
            [*READING, "training.mode=probe", f"tasks=[{task}]", f"training.feature_cache={work / 'feature-cache'}"],
        )
        self.model = build_model(self.config, {"topic": self.labels}).eval()
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(resolve_encoder(self.config.model.name))
        cache = FeatureCache(work / "feature-cache", self.model, None, self.tokenizer.pad_token_id, bf16=False)
        window = self.model.config.window_config
        self.vectors = {
            part: unit(cache.vectors(tokenize(self.tokenizer, texts(rows), window, f"{name} {part}"), f"{name} {part}"))
            for part, rows in (("pool", pool), ("evaluation", evaluation))
        }
        self.y = {
            part: np.array([self.labels.index(row["label"]) for row in rows])
            for part, rows in (("pool", pool), ("evaluation", evaluation))
        }
        task_config = self.config.tasks[0]
        self.zero_shot = zero_shot_head(self.model, self.tokenizer, task_config, self.labels, 20.0)

    def score(self, head: tuple[np.ndarray, np.ndarray]) -> dict[str, float]:
        predicted = (self.vectors["evaluation"] @ head[0].T + head[1]).argmax(1)
        scores = task_scores(self.y["evaluation"], predicted, self.labels)
        return {"accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"]}

    def probe(self, rows: np.ndarray, pulled: bool) -> tuple[np.ndarray, np.ndarray]:
        priors = {"topic": self.zero_shot} if pulled else None
        labels = {"train": {"topic": self.y["pool"][rows]}}
        head = fit_probe(
            {"train": self.vectors["pool"][rows]}, labels, {"topic": self.labels}, self.config, {}, priors=priors
        )["topic"]
        return head.weight, head.bias

    def tfidf(self, rows: np.ndarray) -> dict[str, float]:
        chosen = [self.pool[i] for i in rows]
        train = Dataset.from_dict({"text": texts(chosen), "label_topic": [row["label"] for row in chosen]})
        model, _ = fit_tfidf({"train": train}, {"topic": self.labels}, ["title", "content"], None)
        predicted = model.scores(texts(self.evaluation))["topic"].argmax(1)
        scores = task_scores(self.y["evaluation"], predicted, self.labels)
        return {"accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"]}


def texts(rows: list[dict]) -> list[str]:
    return [f"{row['title']}\n\n{row['content']}" for row in rows]


def unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def curve(data: Encoded, sizes: list[int], seed: int) -> dict[tuple[str, int], dict[str, float]]:
    """(method, k) -> scores for one seed: random draws (probe pulled, probe plain, TF-IDF) and suggest's rounds."""
    results = {("zero-shot", 0): data.score(data.zero_shot)}
    order = np.random.default_rng(seed).permutation(len(data.pool))
    labelled: list[int] = []
    current = data.zero_shot
    for k in (k for k in sizes if k > 0):
        count = min(k * len(data.labels), len(data.pool))
        drawn = order[:count]
        results["random, probe from zero-shot", k] = data.score(data.probe(drawn, pulled=True))
        results["random, probe", k] = data.score(data.probe(drawn, pulled=False))
        results["random, TF-IDF", k] = data.tfidf(drawn)
        logits = data.vectors["pool"] @ current[0].T + current[1]
        margins = top_two_margins(torch.softmax(torch.from_numpy(logits), dim=1).numpy())
        eligible = np.setdiff1d(np.arange(len(data.pool)), labelled)
        picked = diverse_uncertain(data.vectors["pool"][eligible], margins[eligible], count - len(labelled), 10, seed)
        labelled += [int(i) for i in eligible[picked]]
        current = data.probe(np.array(labelled), pulled=True)
        results["suggest, probe from zero-shot", k] = data.score(current)
    return results


def pipeline_speed(data: Encoded, articles: int = 64, rounds: int = 3) -> dict[str, float]:
    """Articles a second: the zero-shot model (one encoder pass an article) against an NLI-style pipeline, the same
    encoder reading (article, "This text is about {label}.") once per label: its cost, not its accuracy."""
    rows = texts(data.evaluation[:articles])
    window = data.model.config.window_config
    tokenizer, model = data.tokenizer, data.model
    hypotheses = [f"This text is about {label.replace('_', ' ')}." for label in data.labels]

    def zero_shot() -> None:
        with torch.no_grad():
            model(**collate_windows(encode_articles(tokenizer, rows, window), tokenizer.pad_token_id))

    def nli_style() -> None:
        with torch.no_grad():
            for hypothesis in hypotheses:
                windows = encode_pairs(tokenizer, [hypothesis] * len(rows), rows, window)
                model(**collate_windows(windows, tokenizer.pad_token_id, tokenizer.sep_token_id))

    best = {"zero-shot": float("inf"), "NLI-style": float("inf")}
    for _ in range(rounds):  # in turns, best of each
        for name, run in (("zero-shot", zero_shot), ("NLI-style", nli_style)):
            started = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - started)
    return {name: articles / seconds for name, seconds in best.items()}


def table(results: list[dict[tuple[str, int], dict[str, float]]]) -> str:
    def cell(values: list[float]) -> str:
        return f"{100 * mean(values):.1f}" + (f" ± {100 * stdev(values):.1f}" if len(values) > 1 else "")

    lines = ["| labels a class | method | accuracy | macro-F1 |", "|---|---|---|---|"]
    for key in sorted(results[0], key=lambda key: (key[1], key[0])):
        runs = [seed[key] for seed in results]
        lines.append(
            f"| {key[1]} | {key[0]} | {cell([r['accuracy'] for r in runs])} | {cell([r['macro_f1'] for r in runs])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.environ.get("NEWSCLF_DATA", str(ROOT.parent / "shared" / "data")))
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 4, 8, 16, 32, 64], help="labels a class")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--pool", type=int, default=4000, help="AllSides: pool articles (training outlets)")
    parser.add_argument("--evaluate", type=int, default=1000, help="AllSides: scored articles (validation outlets)")
    parser.add_argument("--work", default="runs/zero-shot", help="folder of the feature cache")
    parser.add_argument("--output", help="also write the section into this Markdown file")
    args = parser.parse_args(argv)
    data = Path(args.data)
    if not data.is_dir():
        print(f"error: {data} not found (set --data or NEWSCLF_DATA)", file=sys.stderr)
        return 2
    descriptions = yaml.safe_load((ROOT / "benchmarks" / "descriptions.yaml").read_text(encoding="utf-8"))
    command = "python benchmarks/zero_shot.py " + " ".join(argv if argv is not None else sys.argv[1:])
    for name in args.datasets:
        started = time.perf_counter()
        key, load = DATASETS[name]
        pool, evaluation = load(data, args.pool, args.evaluate)
        encoded = Encoded(name, pool, evaluation, descriptions[key], Path(args.work))
        results = [curve(encoded, args.sizes, seed) for seed in args.seeds]
        speed = pipeline_speed(encoded)
        section = (
            f"### {name}: {len(encoded.labels)} labels, pool {len(pool)}, scored {len(evaluation)}\n\n"
            f"{describe_machine()}, {date.today()}, {time.perf_counter() - started:.0f} s; `{command.strip()}`\n\n"
            + table(results)
            + f"\n\nMean ± standard deviation over {len(args.seeds)} seeds. Speed on {name}'s first 64 scored articles "
            f"(best of 3, in turns): zero-shot {speed['zero-shot']:.1f} articles/s, NLI-style "
            f"{speed['NLI-style']:.1f} ({speed['zero-shot'] / speed['NLI-style']:.1f}x)."
        )
        marker = SECTION.format(name)
        publish(section, args.output, f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->")
    return 0


if __name__ == "__main__":
    sys.exit(main())
