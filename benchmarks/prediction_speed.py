"""Inference speed on real articles: our Predictor's backends against one HF pipeline per task.

    python benchmarks/prediction_speed.py --model runs/allsides-random/model --articles 1000 --output docs/speed.md

Each row runs in its own process (so peak RSS is its own) on the same AllSides validation articles:
``pipelines`` is what a user would write: one ``transformers.pipeline("text-classification")`` per
task over the same fine-tuned encoder and head, truncation on (head of the article), as many texts a
pass as the Predictor's windows; the ``torch-*`` and ``onnx-*`` rows are :class:`inference.Predictor` at
the model's own windowing, except ``-chunks`` (the whole article, up to ``max_windows`` windows);
``-transformers`` rows swap our plain-torch encoder for transformers' ``BertModel`` with the same
weights (the baseline of that change); ``-batch32`` rows run 32 windows (texts) a forward pass instead
of the Predictor's default (the baseline of that default). Reported: articles/s, windows/s, the share
of the bf16 matrix-product ceiling (measured in the same run) that the useful work (the FLOPs of the
tokens read, no padding) reaches, single-article latency p50/p95, peak RSS, speed against
``pipelines``, label agreement with ``torch-fp32`` and macro-F1 against the gold labels. The ONNX rows
need ``newsclf-export --quantize int8`` run on the model first.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import torch
from common import describe_machine, matmul_ceiling, replace_section, take_turns, window_gflop

from inference import Predictor, load_model_folder
from inference.model.classifier import transformers_encoder
from inference.model.folder_layout import CONFIG_FILE
from inference.model.windowing import article_text, encode_articles

ROWS = (
    "pipelines",
    "pipelines-batch32",
    "torch-fp32",
    "torch-bf16",
    "torch-bf16-batch32",
    "torch-bf16-transformers",
    "torch-bf16-chunks",
    "torch-bf16-chunks-batch32",
    "torch-bf16-chunks-transformers",
    "torch-fp32-chunks",
    "onnx-fp32",
    "onnx-int8",
    "onnx-int8-chunks",
)
BEGIN, END = "<!-- inference:begin -->", "<!-- inference:end -->"


def pipelines_worker(model_dir: str, articles: list[dict], batch_size: int | None) -> tuple[Any, Any]:
    """One text-classification pipeline per task, ``batch_size`` texts a pass (``None``: as many as the
    Predictor's default); returns (predict all, predict one) callables."""
    from transformers import BertConfig, PreTrainedModel, pipeline
    from transformers.modeling_outputs import SequenceClassifierOutput

    predictor = Predictor.from_pretrained(model_dir, backend="torch", precision="fp32")
    model, tokenizer = load_model_folder(model_dir)  # transformers' classes, as a hand-written script has them
    model.encoder = transformers_encoder(model)

    class OneTask(PreTrainedModel):
        config_class = BertConfig

        def __init__(self, task: str) -> None:
            labels = model.task_labels(task)
            super().__init__(
                BertConfig(id2label=dict(enumerate(labels)), label2id={v: i for i, v in enumerate(labels)})
            )
            self.inner, self.index = model, model.config.task_names.index(task)

        def forward(self, input_ids, attention_mask=None, **_: Any) -> SequenceClassifierOutput:
            return SequenceClassifierOutput(
                logits=self.inner(input_ids=input_ids, attention_mask=attention_mask).logits[self.index]
            )

    length = predictor.window.max_length
    pipes = {
        task: pipeline("text-classification", model=OneTask(task).eval(), tokenizer=tokenizer, device="cpu")
        for task in predictor.tasks
    }
    texts = [article_text(article, predictor.text_fields) for article in articles]
    options = {"truncation": True, "max_length": length, "batch_size": batch_size or predictor.batch_size}

    def run(batch: list[str]) -> dict[str, list[str]]:
        return {task: [out["label"] for out in pipe(batch, **options)] for task, pipe in pipes.items()}

    lengths = [min(len(ids), length) for ids in tokenizer(texts, truncation=True, max_length=length)["input_ids"]]
    work = {"windows": len(pipes) * len(texts), "gflop": len(pipes) * work_gflop(model.config.encoder, lengths)}
    return (lambda: run(texts)), (lambda i: run([texts[i]])), work


def work_gflop(encoder: dict, lengths: list[int]) -> float:
    return sum(window_gflop(encoder, length) for length in lengths)


def predictor_worker(
    model_dir: str, row: str, articles: list[dict], batch_size: int | None, chunk_windows: int | None = None
) -> tuple[Any, Any, Any]:
    backend, precision, *variant = row.split("-")
    options = {"batch_size": batch_size, "num_threads": torch.get_num_threads()}
    predictor = Predictor.from_pretrained(model_dir, backend=backend, precision=precision, **options)
    if "chunks" in variant:  # the whole article, whatever the model was trained on (speed, not accuracy)
        windows = chunk_windows or predictor.window.max_windows
        predictor.window = replace(predictor.window, strategy="chunks", max_windows=windows)
    if "transformers" in variant:  # the same weights in transformers' BertModel: what our encoder replaced
        predictor.model.encoder = transformers_encoder(predictor.model)
    texts = [article_text(article, predictor.text_fields) for article in articles]
    lengths = [len(w) for article in encode_articles(predictor.tokenizer, texts, predictor.window) for w in article]
    work = {"windows": len(lengths), "gflop": work_gflop(predictor.config.encoder, lengths)}

    def run(batch: list[dict]) -> dict[str, list[str]]:
        results = predictor.predict(batch)
        return {task: [result[task]["label"] for result in results] for task in predictor.tasks}

    return (lambda: run(articles)), (lambda i: run([articles[i]])), work


def worker(args: argparse.Namespace) -> None:
    torch.set_num_threads(args.threads)
    articles = [json.loads(line) for line in Path(args.input).read_text().splitlines()]
    batch_size = 32 if args.worker.endswith("-batch32") else args.batch_size
    if args.worker.startswith("pipelines"):
        run_all, run_one, work = pipelines_worker(args.model, articles, batch_size)
    else:
        run_all, run_one, work = predictor_worker(args.model, args.worker, articles, batch_size, args.chunk_windows)
    run_one(0)  # warm-up
    start = time.perf_counter()
    labels = run_all()
    seconds = time.perf_counter() - start
    latencies = []
    for index in range(min(args.latency, len(articles))):
        start = time.perf_counter()
        run_one(index)
        latencies.append(time.perf_counter() - start)
    print(
        json.dumps(
            {
                "labels": labels,
                "articles_per_s": len(articles) / seconds,
                "windows_per_s": work["windows"] / seconds,
                "gflop_per_s": work["gflop"] / seconds,
                "p50_ms": 1000 * float(np.percentile(latencies, 50)),
                "p95_ms": 1000 * float(np.percentile(latencies, 95)),
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM restarts at exec; ru_maxrss carries the parent's over)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def macro_f1(truth: list[str], predicted: list[str]) -> float:
    from sklearn.metrics import f1_score

    return 100 * float(f1_score(truth, predicted, average="macro", labels=sorted(set(truth)), zero_division=0))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a model folder trained on AllSides")
    parser.add_argument(
        "--data",
        help="JSON lines of articles (title, content, gold_<task> labels), as --save-data writes them; default: the "
        "validation split of the model's own training config",
    )
    parser.add_argument("--save-data", help="write the articles read to this JSON-lines file (for --data elsewhere)")
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--latency", type=int, default=100, help="single articles timed for p50/p95")
    parser.add_argument(
        "--batch-size", type=int, help="windows (pipelines: texts) a forward pass; default: the Predictor's default"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--chunk-windows", type=int, help="windows the -chunks rows read at most; default: the folder's max_windows"
    )
    parser.add_argument("--rows", nargs="+", default=list(ROWS), choices=ROWS)
    parser.add_argument(
        "--rounds", type=int, default=1, help="runs of every row, in turn; the table gives each row's median run"
    )
    parser.add_argument("--output", help="markdown file whose inference section is replaced")
    parser.add_argument("--worker", choices=ROWS, help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    articles = benchmark_articles(args.model, args.articles, args.data, args.save_data)
    torch.set_num_threads(args.threads)
    args.ceiling = {dtype: matmul_ceiling(dtype) for dtype in ("bf16", "fp32")}
    runs: dict[str, list[dict[str, Any]]] = {row: [] for row in args.rows}
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl") as handle:
        handle.write("".join(json.dumps(article) + "\n" for article in articles))
        handle.flush()
        for row in take_turns(args.rows, args.rounds):
            result = run_worker(args, row, handle.name)
            if result is not None:
                runs[row].append(result)
    results = {row: median_run(row_runs) for row, row_runs in runs.items() if row_runs}
    section = report(args, articles, results)
    print(section)
    if args.output:
        replace_section(args.output, BEGIN, END, section)
    return 0


def run_worker(args: argparse.Namespace, row: str, input_file: str) -> dict[str, Any] | None:
    """One row in a fresh process; its result, or None (with its error printed) when it failed."""
    command = [sys.executable, __file__, "--worker", row, "--input", input_file, "--model", args.model]
    command += ["--latency", str(args.latency), "--threads", str(args.threads)]
    command += ["--batch-size", str(args.batch_size)] if args.batch_size else []
    command += ["--chunk-windows", str(args.chunk_windows)] if args.chunk_windows else []
    print(f"{row} ...", file=sys.stderr, flush=True)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        print(done.stderr[-2000:], file=sys.stderr)
        return None
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"{row}: {result['articles_per_s']:.1f} articles/s", file=sys.stderr, flush=True)
    return result


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run of median speed (the faster middle one of an even count), with every run's articles/s.

    >>> [median_run([{"articles_per_s": v} for v in values])["articles_per_s"] for values in ([3, 1, 2], [4, 1])]
    [2, 4]
    """
    ordered = sorted(runs, key=lambda run: run["articles_per_s"])
    return {**ordered[len(ordered) // 2], "all_articles_per_s": [run["articles_per_s"] for run in ordered]}


def benchmark_articles(model_dir: str, count: int, data: str | None, save: str | None = None) -> list[dict[str, Any]]:
    """``count`` articles from ``data`` (JSON lines) or the model's validation split; written to ``save`` if given."""
    if data:
        lines = Path(data).read_text(encoding="utf-8").splitlines()
        articles = [json.loads(line) for line in lines if line.strip()][:count]
    else:
        articles = validation_articles(model_dir, count)
    if save:
        Path(save).write_text("".join(json.dumps(article) + "\n" for article in articles), encoding="utf-8")
    return articles


def validation_articles(model_dir: str, count: int) -> list[dict[str, Any]]:
    """The first ``count`` validation articles of the model's own config, with gold labels."""
    from training.config import load_config
    from training.data import load_splits

    config = load_config(Path(model_dir) / "training_config.yaml")
    split = load_splits(config)["validation"]
    fields = list(config.data.text_fields)
    tasks = [task.name for task in config.tasks]
    rows = split.select(range(min(count, len(split))))
    return [{**{f: row[f] for f in fields}, **{f"gold_{t}": row[f"label_{t}"] for t in tasks}} for row in rows]


def _speed_cells(result: dict[str, Any], base: float | None, ceiling: float) -> list[str]:
    """A row's speed, its share of the bf16 ceiling, its ratio to the pipelines, latency and memory."""
    return [
        f"{result['articles_per_s']:.1f}",
        f"{result['windows_per_s']:.1f}",
        f"{100 * result['gflop_per_s'] / ceiling:.0f}",
        f"{result['articles_per_s'] / base:.2f}" if base else "–",
        f"{result['p50_ms']:.0f}",
        f"{result['p95_ms']:.0f}",
        f"{result['peak_rss_mb']:.0f}",
    ]


def _windowing(model: str) -> str:
    """The folder's windowing in words, from its config.json (``chunks, at most 1 window of 128 tokens``)."""
    window = json.loads((Path(model) / CONFIG_FILE).read_text(encoding="utf-8")).get("window", {})
    strategy, length = window.get("strategy", "head"), window.get("max_length", "?")
    if strategy != "chunks":
        return f"{strategy}, one window of {length} tokens"
    count = window.get("max_windows", "?")
    return f"chunks, at most {count} window{'s' if count != 1 else ''} of {length} tokens"


def report(args: argparse.Namespace, articles: list[dict], results: dict[str, dict[str, Any]]) -> str:
    tasks = list(next(iter(results.values()))["labels"]) if results else []
    base = results.get("pipelines", {}).get("articles_per_s")
    reference = results.get("torch-fp32", {}).get("labels")
    header = (
        "| row | articles/s | windows/s | % of bf16 ceiling | × pipelines | p50 ms | p95 ms | peak RSS MB | "
        + " | ".join(f"{t} agree % | {t} macro-F1" for t in tasks)
        + " | articles/s of each round |"
    )
    chunks = args.chunk_windows
    chunk_reach = f"{chunks} windows" if chunks else "the model's `max_windows` windows"
    lines = [
        "## Inference speed (AllSides validation)",
        "",
        (
            f"`python benchmarks/prediction_speed.py --model {Path(args.model).name} --articles {len(articles)} "
            f"--latency {args.latency} --threads {args.threads}"
            + (f" --rows {' '.join(args.rows)}" if list(args.rows) != list(ROWS) else "")
            + (f" --rounds {args.rounds}" if args.rounds > 1 else "")
            + (f" --chunk-windows {chunks}" if chunks else "")
            + (f" --batch-size {args.batch_size}`" if args.batch_size else "`")
        ),
        (
            f"on {describe_machine()}, {date.today().isoformat()}. Matrix-product ceiling in this run (2048², "
            f"{args.threads} threads): bf16 {args.ceiling['bf16']:.0f} GFLOP/s, fp32 {args.ceiling['fp32']:.0f}."
        ),
        "",
        header,
        "|" + "---|" * (9 + 2 * len(tasks)),
    ]
    for row, result in results.items():
        cells = [row, *_speed_cells(result, base, args.ceiling["bf16"])]
        for task in tasks:
            got = result["labels"][task]
            agree = 100 * np.mean([a == b for a, b in zip(got, reference[task])]) if reference else float("nan")
            gold = [article[f"gold_{task}"] for article in articles]
            cells += [f"{agree:.1f}", f"{macro_f1(gold, got):.1f}"]
        speeds = result.get("all_articles_per_s", [result["articles_per_s"]])
        cells.append(", ".join(f"{speed:.1f}" for speed in speeds))
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "`pipelines` reads the head of each article (what truncation gives) while the Predictor rows read the",
        f"model's configured windows (here {_windowing(args.model)}), so its agreement and macro-F1 differ by",
        "windowing as well; where those rows read one window per article, the compute per article is equal except",
        "that `pipelines` runs the encoder once per task; `-chunks` rows read the whole article (up to "
        + chunk_reach
        + ": their scores say nothing of chunk training). Agreement is with `torch-fp32`",
        "labels. The ceiling share counts the FLOPs of the tokens read (no padding) against the bf16 ceiling.",
        f"Each row ran {args.rounds} time(s) in a fresh process, the rows taking turns (every other round in",
        "reverse order); a row's cells come from its run of median speed.",
        "`-transformers` rows put the same weights in transformers' `BertModel` (what `inference.model.bert`",
        "replaced: the A/B of that change), as `pipelines` does. Every row runs "
        + (f"{args.batch_size} windows" if args.batch_size else "the Predictor's default batch (2,048 tokens' worth)")
        + " a forward pass (`pipelines`: texts), except the `-batch32` rows (32: the default until 2026-12-05).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
