"""Streaming batch prediction: articles/s and peak memory of ``newsclf-predict`` on a large archive.

    python benchmarks/streaming.py --model runs/allsides-random/model --articles 100000 --backend onnx --precision int8
    python benchmarks/streaming.py --model runs/allsides-random/model --articles 2000 --compare 500   # a quick look
    python benchmarks/streaming.py --model runs/latest/model --articles 2000 --compare 1000 --ray   # + Ray Data

Writes an archive of ``--articles`` articles by repeating the AllSides articles (new ids; from
``$NEWSCLF_DATA`` or ``../shared/data``), first times one process against ``--workers`` processes on its
first ``--compare`` articles (the same command otherwise, so the ratio is what the workers buy), then
predicts the whole archive with the faster setting. ``--ray`` adds ``--engine ray`` (a local Ray
started by the command, one actor per CPU) on the same first articles. Each run is the real command in a child process;
its peak memory is the largest sum of the resident memory of that process and its workers, sampled
every 50 ms. The section replaces the streaming part of ``--output``.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

from common import compare_predictions, describe_machine, replace_section

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NEWSCLF_DATA", ROOT.parent / "shared" / "data"))
SECTION = "streaming"  # --section: the name of the markers whose section is replaced
BEGIN, END = f"<!-- {SECTION}:begin -->", f"<!-- {SECTION}:end -->"


def write_archive(source: Path, path: Path, count: int) -> Path:
    """``count`` articles (id, title, content) from ``source``, repeated as often as needed, as JSONL."""
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        articles = [json.loads(line) for line in handle if line.strip()]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        for number, article in enumerate(itertools.islice(itertools.cycle(articles), count)):
            record = {"id": f"{number:07d}", "title": article.get("title", ""), "content": article.get("content", "")}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def head(path: Path, count: int, target: Path) -> Path:
    with open(path, encoding="utf-8") as source, open(target, "w", encoding="utf-8") as out:
        out.writelines(itertools.islice(source, count))
    return target


def tree_rss(pid: int) -> int:
    """Resident bytes of process ``pid`` and all its descendants (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                stack.extend(int(child) for child in children)
        except (OSError, StopIteration, ValueError):
            continue
    return total


def measure(command: list[str], articles: int) -> dict[str, float]:
    """Runs ``command``; returns its wall time, articles/s and peak memory (MiB) of the process tree."""
    peak = 0
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    stderr: list[str] = []  # read on the side, so a chatty command never blocks on a full pipe
    reader = threading.Thread(target=lambda: stderr.append(process.stderr.read()), daemon=True)
    reader.start()
    while process.poll() is None:
        peak = max(peak, tree_rss(process.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    reader.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{''.join(stderr)[-2000:]}")
    return {"seconds": round(seconds, 1), "articles_per_s": round(articles / seconds, 1), "peak_mib": peak / 2**20}


def table_row(label: str, processes: int, measured: dict[str, float]) -> str:
    numbers = f"{measured['seconds']} | {measured['articles_per_s']} | {measured['peak_mib']:.0f}"
    return f"| {label} | {processes} | {numbers} |"


def predict_command(model: str, source: Path, output: Path, workers: int, args: argparse.Namespace) -> list[str]:
    command = [sys.executable, "-m", "inference", "--model", model, "--input", str(source), "--output", str(output)]
    command += ["--backend", args.backend, "--precision", args.precision]
    if workers == 0:  # Ray Data
        return [*command, "--engine", "ray"]
    return [*command, "--workers", str(workers), "--restart"]


def ray_row(args: argparse.Namespace, compared: dict[int, dict], count: int) -> str:
    """The ``--engine ray`` row and how it compares, or nothing without ``--ray``."""
    if 0 not in compared:
        return ""
    same = compare_predictions(args.work_dir / "sample-0.jsonl", args.work_dir / "sample-1.jsonl")
    ratio = compared[0]["articles_per_s"] / compared[args.workers]["articles_per_s"]
    row = table_row(f"first {count:,} articles, `--engine ray`", os.cpu_count() or 1, compared[0])
    return (
        f"{row}\n\nRay Data (a local Ray, one actor per CPU) scores {ratio:.2f}× the articles/s of "
        f"{args.workers} `--workers` processes, start-up included, with output "
        f"{same} one process's.\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a model folder (AllSides text fields: title, content)")
    parser.add_argument("--articles", type=int, default=100_000, help="articles in the archive")
    parser.add_argument("--compare", type=int, default=5_000, help="articles timed with 1 and with --workers processes")
    parser.add_argument("--workers", type=int, default=2, help="processes to compare with one")
    parser.add_argument("--ray", action="store_true", help="also time --engine ray on the first --compare articles")
    parser.add_argument("--backend", default="onnx", choices=["torch", "onnx", "auto"])
    parser.add_argument("--precision", default="int8", choices=["fp32", "bf16", "int8", "auto"])
    parser.add_argument("--source", type=Path, default=DATA / "allsides" / "articles.jsonl.gz")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/newsclf-streaming"))
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "speed.md")
    parser.add_argument("--section", default=SECTION, help="name of the markers of the section replaced")
    args = parser.parse_args(argv)

    archive = write_archive(args.source, args.work_dir / "archive.jsonl", args.articles)
    sample = head(archive, min(args.compare, args.articles), args.work_dir / "sample.jsonl")
    sample_count = min(args.compare, args.articles)
    compared = {}
    for workers in (1, args.workers, *([0] if args.ray else [])):
        output = args.work_dir / f"sample-{workers}.jsonl"
        compared[workers] = measure(predict_command(args.model, sample, output, workers, args), sample_count)
        print(f"{sample_count} articles, {workers} process(es): {compared[workers]}", flush=True)
    same = compare_predictions(args.work_dir / "sample-1.jsonl", args.work_dir / f"sample-{args.workers}.jsonl")
    best = max((w for w in compared if w), key=lambda w: compared[w]["articles_per_s"])
    full = measure(predict_command(args.model, archive, args.work_dir / "archive-out.jsonl", best, args), args.articles)
    print(f"{args.articles} articles, {best} process(es): {full}", flush=True)
    lines = sum(1 for _ in open(args.work_dir / "archive-out.jsonl", encoding="utf-8"))

    ratio = compared[args.workers]["articles_per_s"] / compared[1]["articles_per_s"]
    title = "Streaming batch prediction" + (" with Ray Data" if args.ray else "")
    section = f"""## {title}

`python benchmarks/streaming.py {" ".join(argv if argv is not None else sys.argv[1:])}` on {date.today()}
({describe_machine()}). `newsclf-predict --backend {args.backend} --precision {args.precision}` on AllSides
articles repeated into a JSONL archive; wall time includes starting the processes and loading the model; peak
memory is the largest resident total of the command and its workers.

| input | processes | seconds | articles/s | peak memory (MiB) |
|---|---|---|---|---|
{table_row(f"first {sample_count:,} articles", 1, compared[1])}
{table_row(f"first {sample_count:,} articles", args.workers, compared[args.workers])}
{table_row(f"all {args.articles:,} articles", best, full)}
{ray_row(args, compared, sample_count)}
{args.workers} processes score {ratio:.2f}× the articles/s of one on the same input, and their output has \
{same} one process's. The whole archive ({lines:,} predictions \
written) ran with {best} process(es) at {full["peak_mib"]:.0f} MiB peak, against \
{compared[best]["peak_mib"]:.0f} MiB for the first {sample_count:,} articles: memory does not grow with the input.
"""
    replace_section(args.output, f"<!-- {args.section}:begin -->", f"<!-- {args.section}:end -->", section)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
