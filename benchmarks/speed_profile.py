"""Where prediction and a training step spend their time, on real AllSides articles.

    python benchmarks/speed_profile.py --model runs/bench/model --articles 256 --output docs/speed.md
    python benchmarks/speed_profile.py --model runs/bench/model --window chunks --section profile-chunks

Prediction is timed stage by stage as :class:`inference.Predictor` runs it: joining the text fields,
tokenizing (only what the windows read, as the Predictor does), cutting windows, padding the batches,
the encoder, pooling with the heads, and calibration; ``torch.profiler`` then splits the encoder's time
by kind of operator (matrix products, attention, layer norm, GELU, dtype casts, ...). A training step
(the model's own windows, an fp32 model under bf16 autocast where the CPU has it, attention dropout 0,
AdamW) is split the same way, forward, backward and optimizer together. The bf16 and fp32
matrix-product ceilings, measured in the same run, say how far each is from what the CPU can do.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import replace
from datetime import date
from typing import Any

import torch
from common import describe_machine, matmul_ceiling, publish, take_turns, window_gflop
from prediction_speed import benchmark_articles
from torch.profiler import ProfilerActivity, profile

from inference import Predictor
from inference.model.bert import PlainEncoder
from inference.model.heads import window_assignment
from inference.model.loading import load_model_folder
from inference.model.loss import multitask_loss
from inference.model.windowing import (
    article_text,
    collate_windows,
    encode_articles,
    special_tokens,
    split_tokens,
    token_ids,
)
from inference.prediction.backends import bf16_supported
from inference.prediction.fusion import TaskCalibration, fused_probabilities
from inference.prediction.predictor import length_sorted_windows

# operator name fragments -> the kind reported; the first match wins, in this order
KINDS = (
    ("attention", ("attention", "softmax", "sdpa")),
    ("matrix products", ("addmm", "linear", "matmul", "bmm", "mm", "mkldnn")),
    ("layer norm", ("layer_norm",)),
    ("GELU", ("gelu",)),
    ("dtype casts and copies", ("_to_copy", "copy_", "to", "contiguous", "clone", "empty")),
    ("embeddings", ("embedding", "index_select")),
    ("optimizer", ("optimizer", "adamw", "_foreach", "lerp", "addcmul", "addcdiv", "sqrt")),
    ("loss", ("cross_entropy", "nll_loss", "log_softmax")),
    ("dropout masks (random numbers)", ("bernoulli", "dropout")),
    ("elementwise and masks", ("add", "mul", "div", "sub", "where", "masked", "sum", "mean", "fill")),
)


def kind_of(operator: str) -> str:
    name = operator.lower()
    for kind, fragments in KINDS:
        if any(fragment in name for fragment in fragments):
            return kind
    return "other"


def operator_shares(prof: Any) -> dict[str, float]:
    """Seconds of self CPU time per kind of operator (aten ops and autograd nodes alike)."""
    totals: dict[str, float] = defaultdict(float)
    for event in prof.key_averages():
        if event.self_cpu_time_total > 0 and not event.key.startswith("ProfilerStep"):
            totals[kind_of(event.key)] += event.self_cpu_time_total / 1e6
    return dict(totals)


def load_predictor(args: argparse.Namespace) -> Predictor:
    predictor = Predictor.from_pretrained(
        args.model, backend="torch", precision=args.precision, batch_size=args.batch_size, num_threads=args.threads
    )
    if args.window:  # read the articles another way than the model was trained to (speed only)
        predictor.window = replace(predictor.window, strategy=args.window)
    if args.max_windows:
        predictor.window = replace(predictor.window, max_windows=args.max_windows)
    return predictor


def prediction_stages(predictor: Predictor, articles: list[dict]) -> tuple[dict[str, float], dict[str, Any]]:
    """Seconds of each stage of prediction over ``articles``, and the padding and token counts."""
    stages: dict[str, float] = defaultdict(float)
    clock = time.perf_counter
    start = clock()
    texts = [article_text(article, predictor.text_fields) for article in articles]
    stages["join text fields"] = clock() - start
    if predictor.scrub is not None:
        start = clock()
        texts = [predictor.scrub(text) for text in texts]
        stages["scrub outlet names (scrubbing folders)"] = clock() - start
    start = clock()
    tokens = token_ids(predictor.tokenizer, texts, predictor.window)
    stages["tokenize"] = clock() - start
    start = clock()
    prefix, suffix = special_tokens(predictor.tokenizer)
    budget = predictor.window.max_length - len(prefix) - len(suffix)
    windows = [[prefix + w + suffix for w in split_tokens(ids, predictor.window, budget)] for ids in tokens]
    stages["cut windows"] = clock() - start
    counts = {"tokenized": sum(map(len, tokens)), "read": 0, "computed": 0, "windows": 0, "gflop": 0.0}
    counts["whole"] = sum(map(len, predictor.tokenizer(texts, add_special_tokens=False)["input_ids"]))
    counts["gflop"] = sum(window_gflop(predictor.config.encoder, len(w)) for article in windows for w in article)
    start = clock()
    batches = window_batches(predictor, windows)
    counts["padding seconds"] = clock() - start
    model, vectors = predictor.model, {}
    for rows, batch in batches:
        counts["read"] += int(batch["attention_mask"].sum())
        counts["computed"] += batch["input_ids"].numel()
        counts["windows"] += len(rows)
        with predictor.backend.context():
            start = clock()
            vectors.update(zip(rows, model.encode_windows(batch["input_ids"], batch["attention_mask"])))
            stages["encoder"] += clock() - start
    start = clock()
    owners = torch.tensor([index for index, article in enumerate(windows) for _ in article])
    with predictor.backend.context():
        pooled = model.pool_windows(torch.stack([vectors[i] for i in range(len(owners))]), window_assignment(owners))
        logits = [task.float().numpy() for task in model.classify(pooled)]
    stages["pool and heads"] = clock() - start
    stages["pad batches"] = counts.pop("padding seconds")
    calibrations = {task: predictor.calibration.get(task, TaskCalibration()) for task in predictor.tasks}
    fused = [task for task, calibration in calibrations.items() if calibration.tfidf_weight > 0]
    start = clock()
    sparse = predictor.tfidf.scores(texts, fused) if fused and predictor.tfidf is not None else {}
    stages["TF-IDF scores (fused folders)"] = clock() - start
    start = clock()
    for values, task in zip(logits, predictor.tasks):
        fused_probabilities(values, calibrations[task], sparse.get(task))
    stages["calibrate"] = clock() - start
    return dict(stages), counts


def window_batches(predictor: Predictor, windows: list[list[list[int]]]) -> list:
    """(flat window indices, padded batch) pairs, longest windows first, as the Predictor batches windows
    under torch (each window alone, so a short one is padded only to others like it)."""
    flat = [window for article in windows for window in article]
    pad = predictor.tokenizer.pad_token_id
    return [
        (rows, collate_windows([[flat[i]] for i in rows], pad))
        for rows in length_sorted_windows(windows, predictor.batch_size)
    ]


def profile_encoder(predictor: Predictor, articles: list[dict], batches: int, plain: bool = False) -> dict[str, float]:
    """The encoder's operators over the first ``batches`` batches; ``plain``: through its unfused layers."""
    windows = encode_articles(predictor.tokenizer, texts_of(predictor, articles), predictor.window)
    padded = [batch for _, batch in window_batches(predictor, windows)[:batches]]
    if plain:
        predictor.model.encoder.unfuse()
    with profile(activities=[ProfilerActivity.CPU]) as prof, predictor.backend.context():
        for batch in padded:
            predictor.model.encode_windows(batch["input_ids"], batch["attention_mask"])
    if plain:
        predictor.model.encoder.fuse(torch.bfloat16)
    return operator_shares(prof)


def fused_against_plain(predictor: Predictor, articles: list[dict], rounds: int) -> dict[str, list[float]] | None:
    """Seconds of the encoder over the articles' windows through its fused bf16 layers and through the plain ones
    (:meth:`inference.model.bert.BertLayer.fuse`), in turns, with a bf16 ceiling probe in every round; None where
    the model has no plain-torch BERT or does not run in bf16."""
    encoder = predictor.model.encoder
    if not isinstance(encoder, PlainEncoder) or predictor.backend.precision != "bf16":
        return None
    windows = encode_articles(predictor.tokenizer, texts_of(predictor, articles), predictor.window)
    batches = [batch for _, batch in window_batches(predictor, windows)]
    seconds: dict[str, list[float]] = {"fused": [], "plain": [], "ceiling": []}
    for key in take_turns(list(seconds), rounds):
        if key == "ceiling":
            seconds[key].append(matmul_ceiling("bf16", repeats=3))
            continue
        encoder.fuse(torch.bfloat16) if key == "fused" else encoder.unfuse()
        start = time.perf_counter()
        with predictor.backend.context():
            for batch in batches:
                predictor.model.encode_windows(batch["input_ids"], batch["attention_mask"])
        seconds[key].append(time.perf_counter() - start)
    encoder.fuse(torch.bfloat16)
    return seconds


def training_profile(predictor: Predictor, articles: list[dict], args: argparse.Namespace) -> dict[str, Any]:
    """Times ``args.train_steps`` training steps on the model's own windows (after one untimed), then
    profiles two more: an fp32 model under bf16 autocast, as training runs it."""
    model = load_model_folder(args.model)[0]
    for module in model.encoder.modules():  # attention dropout 0, as training sets it for speed
        if type(module).__name__.endswith("SelfAttention") and hasattr(module, "dropout"):
            module.dropout.p = 0.0
    model.train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    windows = encode_articles(predictor.tokenizer, texts_of(predictor, articles), predictor.window)
    windows = [article[:2] for article in windows]  # chunks: 2 windows an article a step (model.train_windows: 2)
    size = args.train_batch_size
    needed = size * (args.train_steps + 3)
    windows = windows * (needed // len(windows) + 1)  # fewer articles than steps take: go round again
    batches = [windows[i : i + size] for i in range(0, needed, size)]
    labels = {task: torch.zeros(size, dtype=torch.long) for task in predictor.tasks}  # ids do not change the cost
    bf16 = bf16_supported() and args.precision != "fp32"

    def step(batch: list) -> float:
        padded = collate_windows(batch, predictor.tokenizer.pad_token_id)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model(**padded).logits
        multitask_loss(dict(zip(predictor.tasks, logits)), labels).backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return sum(3 * window_gflop(predictor.config.encoder, len(window)) for article in batch for window in article)

    step(batches[0])
    start = time.perf_counter()
    gflop = sum(step(batch) for batch in batches[1 : args.train_steps + 1])
    seconds = time.perf_counter() - start
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for batch in batches[args.train_steps + 1 :]:
            step(batch)
    model.eval()
    samples = size * args.train_steps
    return {
        "samples_per_s": samples / seconds,
        "gflop_per_s": gflop / seconds,
        "kinds": operator_shares(prof),
        "bf16": bf16,
    }


def texts_of(predictor: Predictor, articles: list[dict]) -> list[str]:
    return [article_text(article, predictor.text_fields) for article in articles]


def share_table(title: str, seconds: dict[str, float]) -> list[str]:
    total = sum(seconds.values()) or 1.0
    rows = sorted(seconds.items(), key=lambda item: -item[1])
    return [f"| {title} | s | share |", "|---|---:|---:|"] + [
        f"| {name} | {value:.2f} | {100 * value / total:.0f}% |" for name, value in rows
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a model folder trained on AllSides")
    parser.add_argument("--articles", type=int, default=256, help="validation articles predicted")
    parser.add_argument("--data", help="JSON lines of articles (prediction_speed.py --save-data); default: validation")
    parser.add_argument("--window", choices=["head", "head+tail", "chunks"], help="default: the model's own")
    parser.add_argument(
        "--max-windows", type=int, help="windows a chunks article is read as, at most; default: the model's"
    )
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="bf16" if bf16_supported() else "fp32")
    parser.add_argument(
        "--batch-size", type=int, help="windows per forward pass in prediction; default: the Predictor's default"
    )
    parser.add_argument("--train-batch-size", type=int, default=32)
    parser.add_argument("--train-steps", type=int, default=4, help="timed training steps (two more are profiled)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--rounds", type=int, default=7, help="turns of the fused and plain encoder and a ceiling probe (bf16 only)"
    )
    parser.add_argument("--section", default="profile", help="the docs section this run replaces")
    parser.add_argument("--output", help="markdown file whose section is replaced")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    ceiling = {dtype: matmul_ceiling(dtype) for dtype in ("bf16", "fp32")}
    predictor = load_predictor(args)
    articles = benchmark_articles(args.model, args.articles, args.data)
    predictor.predict_proba(articles[:4])  # warm-up
    start = time.perf_counter()
    predictor.predict_proba(articles)
    whole = time.perf_counter() - start
    stages, counts = prediction_stages(predictor, articles)
    stages["Predictor's own overhead"] = max(whole - sum(stages.values()), 0.0)
    encoder_kinds = profile_encoder(predictor, articles, batches=4)
    plain_kinds = None
    if isinstance(predictor.model.encoder, PlainEncoder) and args.precision == "bf16":
        plain_kinds = profile_encoder(predictor, articles, batches=4, plain=True)
    turns = fused_against_plain(predictor, articles, args.rounds)
    training = training_profile(predictor, articles, args)
    section = report(args, ceiling, whole, stages, counts, encoder_kinds, training, plain_kinds, turns)
    begin, end = f"<!-- {args.section}:begin -->", f"<!-- {args.section}:end -->"
    publish(section, args.output, begin, end)
    return 0


def turns_lines(turns: dict[str, list[float]] | None, gflop: float) -> list[str]:
    """The fused and plain encoder in turns, against the spread of the ceiling probes of the same rounds."""
    if turns is None:
        return []
    fused, plain, probes = (statistics.median(turns[key]) for key in ("fused", "plain", "ceiling"))
    ratios = [p / f for f, p in zip(turns["fused"], turns["plain"])]
    best = max(turns["ceiling"])
    return [
        (
            f"Fused against plain layers (`inference.model.bert`), the encoder alone over the same windows in turns, "
            f"{len(ratios)} rounds, medians: fused {fused:.2f} s, plain {plain:.2f} s: **{plain / fused:.2f}×** "
            f"(per round {min(ratios):.2f}–{max(ratios):.2f}×). The bf16 ceiling, probed in every round: best "
            f"{best:.0f} GFLOP/s, median {probes:.0f}, spread {min(turns['ceiling']):.0f}–{best:.0f}; the fused "
            f"encoder runs at {100 * gflop / fused / best:.0f}% of the best probe ({100 * gflop / fused / probes:.0f}% "
            f"of the median), the plain one at {100 * gflop / plain / best:.0f}%."
        ),
        "",
    ]


def operators_side_by_side(fused: dict[str, float], plain: dict[str, float] | None) -> list[str]:
    if plain is None:
        return share_table("encoder operators (torch.profiler, self time)", fused)
    lines = ["| encoder operators (torch.profiler, self time, 4 batches) | plain s | fused s |", "|---|---:|---:|"]
    for name in sorted(set(fused) | set(plain), key=lambda name: -plain.get(name, 0.0)):
        lines.append(f"| {name} | {plain.get(name, 0.0):.2f} | {fused.get(name, 0.0):.2f} |")
    lines.append(f"| all | {sum(plain.values()):.2f} | {sum(fused.values()):.2f} |")
    return lines


def report(args, ceiling, whole, stages, counts, encoder_kinds, training, plain_kinds=None, turns=None) -> str:
    top = ceiling[args.precision]
    encoder_rate = counts["gflop"] / stages["encoder"]
    lines = [
        f"## Profile: where the time goes ({args.window or 'model windows'}, {args.precision})",
        "",
        f"`python {shlex.join(sys.argv)}` (precision {args.precision})  ",
        f"on {describe_machine()}, {args.threads} threads, torch {torch.__version__}, {date.today().isoformat()}.",
        "",
        f"Matrix-product ceiling (2048², same run): bf16 {ceiling['bf16']:.0f} GFLOP/s, fp32 {ceiling['fp32']:.0f}.",
        (
            f"Prediction: {args.articles} articles in {whole:.2f} s ({args.articles / whole:.1f} articles/s, "
            f"{counts['windows'] / whole:.1f} windows/s); {counts['windows']} windows; tokenized "
            f"{counts['tokenized']} tokens ({100 * counts['tokenized'] / counts['whole']:.0f}% of the whole texts'), "
            f"the windows read {counts['read']}; padding is "
            f"{100 * (1 - counts['read'] / counts['computed']):.1f}% of the tokens computed. The encoder runs at "
            f"{encoder_rate:.0f} GFLOP/s of useful work, {100 * encoder_rate / top:.0f}% of the {args.precision} "
            f"ceiling; the whole Predictor at {100 * counts['gflop'] / whole / top:.0f}%."
        ),
        "",
        *share_table("prediction stage", stages),
        "",
        *turns_lines(turns, counts["gflop"]),
        *operators_side_by_side(encoder_kinds, plain_kinds),
        "",
        (
            f"Training step (batch {args.train_batch_size}, at most 2 windows an article, "
            f"{'bf16 autocast' if training['bf16'] else 'fp32'}, "
            f"attention dropout 0, AdamW): {training['samples_per_s']:.1f} samples/s, "
            f"{training['gflop_per_s']:.0f} GFLOP/s, {100 * training['gflop_per_s'] / top:.0f}% of the ceiling."
        ),
        "",
        *share_table("training operators (forward, backward, optimizer)", training["kinds"]),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
