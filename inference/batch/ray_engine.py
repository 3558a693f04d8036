"""Batch prediction on Ray Data: the rows and lines ``newsclf-predict`` writes, from actors across a cluster.

    newsclf-predict --model runs/latest/model --input archive/ --output preds.jsonl --engine ray
    newsclf-predict --model runs/latest/model --input archive/ --output preds.parquet --engine ray \\
        --address auto --concurrency 16                         # on a cluster started with `ray start --head`

Or from Python, a ``ray.data.Dataset`` in and one out (the ``ray`` extra: ``pip install 'newsclf[ray]'``):

>>> import ray  # doctest: +SKIP
>>> rows = ray.data.read_parquet("archive/")  # doctest: +SKIP
>>> predictions = predict_dataset(rows, "runs/latest/model")  # doctest: +SKIP
>>> predictions.take(1)  # doctest: +SKIP
[{'line': '{"id": "a1", "topic": {"label": "economy", ...}}'}]

The model folder is checked against its manifest once, on the driver, then its files go to the object
store; each actor writes them to a folder of its own and loads the model once. Every row becomes the
article the local command would read (a JSON line parsed as it parses it, a Parquet row through the
same JSON round trip), and the output keeps the input's order, so the lines are those of
``newsclf-predict`` for the same input: byte for byte where Ray cuts the batches where the local command
cuts its chunks (one file, ``$NEWSCLF_PREDICT_CHUNK`` rows each), else with probabilities that differ by
float rounding (a batch pads its windows to its longest). An actor that dies is restarted and its batch run again; Ray
Data hands each batch's output on once, so the output is complete and has no duplicates.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model.folder_layout import MANIFEST
from ..model.loading import check_model_folder
from ..model.manifest import read_manifest
from ..options import PredictOptions
from ..prediction.predictor import Predictor
from .articles import InputError, output_line, predict_chunk, row_as_json

if TYPE_CHECKING:
    import ray.data

INSTALL_HINT = "--engine ray needs Ray Data: pip install 'newsclf[ray]'"
TEXT = "text"  # the column of an input JSON line (as ray.data.read_text names it)
LINE = "line"  # the column of an output line
SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".parquet")


def import_ray() -> Any:
    """``ray``, with the install command in the error when it is missing."""
    try:
        import ray
        import ray.data
    except ImportError as error:
        raise ImportError(f"{INSTALL_HINT} ({error})") from error
    return ray


def input_files(path: str | Path) -> list[Path]:
    """The ``.jsonl(.gz)``/``.parquet`` files of a file or a folder (sorted: the output's order), all of one kind."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(SUFFIXES))
        if not files:
            raise InputError(f"{path}: no {', '.join(SUFFIXES)} files in this folder")
    elif path.is_file():
        if not path.name.endswith(SUFFIXES):
            raise InputError(f"{path}: --engine ray reads {', '.join(SUFFIXES)} files")
        files = [path]
    else:
        raise InputError(f"{path}: no such input file or folder")
    kinds = {file.suffix == ".parquet" for file in files}
    if len(kinds) > 1:
        raise InputError(f"{path}: holds both Parquet and JSON-lines files; give one kind")
    return files


def read_dataset(path: str | Path) -> ray.data.Dataset:
    """The input as a dataset: one row per non-blank JSON line (column ``text``), or per Parquet row.

    Reading reserves no CPU, so that actors holding every CPU of a small cluster cannot starve it.
    """
    ray = import_ray()
    files = [str(file) for file in input_files(path)]
    if files[0].endswith(".parquet"):
        return ray.data.read_parquet(files, num_cpus=0)
    return ray.data.read_text(files, drop_empty_lines=True, num_cpus=0)


class _PredictorActor:
    """Holds one Predictor, loaded from the shipped folder; turns a batch of rows into output lines."""

    def __init__(self, shipped: list, options: PredictOptions) -> None:
        import ray

        files: dict[str, bytes] = ray.get(shipped[0])
        # a loaded Predictor reads no file of its folder again, so the copy goes at once: Ray ends an actor
        # without running __del__, and each actor of each job left a copy of the model in the worker's /tmp
        with tempfile.TemporaryDirectory(prefix="newsclf-model-") as scratch:
            for name, data in files.items():
                target = Path(scratch) / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            self.predictor = Predictor.from_options(Path(scratch), options)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list[str]]:
        articles = list(_articles(batch))
        results = predict_chunk(self.predictor, articles)
        return {LINE: [output_line(article, result) for (_, article), result in zip(articles, results)]}


def _articles(batch: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The articles of a batch as the local command reads them: JSON lines parsed, Parquet rows via JSON."""
    if set(batch) == {TEXT}:
        for line in batch[TEXT]:
            try:
                yield "a JSON line", json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(f"invalid JSON (column {error.colno}: {error.msg}): {line[:80]!r}") from None
        return
    columns = list(batch)
    for row in zip(*(batch[column] for column in columns)):
        record = {column: _plain(value) for column, value in zip(columns, row)}
        yield "a Parquet row", json.loads(row_as_json(record))


def _plain(value: Any) -> Any:
    """A NumPy scalar or array of a batch as the Python value pyarrow's ``to_pylist`` gives."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def ship_model(model_dir: str | Path) -> list:
    """The folder, checked against its manifest, as ``[object ref]`` of ``{relative path: bytes}``."""
    ray = import_ray()
    folder = check_model_folder(model_dir)
    manifest = read_manifest(folder)
    if manifest is None:  # an older folder: every file in it
        names = [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()]
    else:
        names = [MANIFEST, *manifest["files"]]
    return [ray.put({name: (folder / name).read_bytes() for name in names})]


def predict_dataset(
    dataset: ray.data.Dataset,
    model_dir: str | Path,
    *,
    concurrency: int | None = None,
    cpus_per_actor: float = 1,
    rows_per_call: int = 256,
    options: PredictOptions = PredictOptions(),
) -> ray.data.Dataset:
    """Predicts every row of ``dataset`` in actors that each load the model once.

    Args:
        dataset: rows of JSON lines (one ``text`` column, as :func:`read_dataset` gives) or rows with
            the model's text fields (``title``, ``content``, ``target`` for pair tasks, and ``id``).
            Its read tasks may reserve no CPU (``ray_remote_args={"num_cpus": 0}``, as there), so that
            they never wait for CPUs the actors hold.
        model_dir: the model folder; checked here, then shipped to the actors.
        concurrency: most actors (Ray Data starts one and adds more while work waits); ``None``: one
            per ``cpus_per_actor`` CPUs of the cluster.
        cpus_per_actor: CPUs each actor reserves (its torch threads, unless ``options.num_threads``).
        rows_per_call: rows per call of an actor.
        options: how each actor predicts; ``num_threads`` ``None``: the actor's CPUs.

    Returns:
        A dataset of one ``line`` column: the JSON line ``newsclf-predict`` writes for each row,
        in the input's order when the dataset's context preserves order (as :func:`predict_files` sets).
    """
    ray = import_ray()
    shipped = ship_model(model_dir)
    if concurrency is None:
        concurrency = max(1, int(ray.cluster_resources().get("CPU", 1) // cpus_per_actor))
    options = options.replace(num_threads=options.num_threads or max(1, int(cpus_per_actor)))
    return dataset.map_batches(
        _PredictorActor,
        fn_constructor_args=(shipped, options),
        batch_size=rows_per_call,
        batch_format="numpy",
        # from one actor up: a pool that took every CPU at the start would starve Ray Data's own tasks (listing
        # files) on a small cluster. Ray Data restarts a dead actor and runs its batch again.
        compute=ray.data.ActorPoolStrategy(min_size=1, max_size=concurrency),
        num_cpus=cpus_per_actor,
    )


def predict_files(
    input_path: str | Path, model_dir: str | Path, output: str | Path, address: str | None = None, **keywords: Any
) -> int:
    """``newsclf-predict --engine ray``: predicts a file or folder into ``output`` (JSON lines, or
    Parquet for a ``.parquet`` name), replaced only once complete; returns the number of rows.
    ``keywords`` are those of :func:`predict_dataset` (``options``, ``concurrency``, ``rows_per_call``)."""
    from ..atomic import atomic_writer

    ray = import_ray()
    input_files(input_path)  # checked before anything starts; the checksums once, when the folder is shipped
    check_model_folder(model_dir, verify=False)
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = os.environ.get("TQDM_DISABLE") is None
    lines = predict_dataset(read_dataset(input_path), model_dir, **keywords)
    if str(output).endswith(".parquet"):
        return _write_parquet(lines, output)
    count = 0
    with atomic_writer(output) as out:
        for batch in lines.iter_batches(batch_format="numpy", batch_size=1024):
            out.writelines(batch[LINE])
            count += len(batch[LINE])
    return count


def _write_parquet(lines: ray.data.Dataset, output: str | Path) -> int:
    """The records of the output lines as Parquet rows (nested: ``{task: {label, score, scores}}``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..atomic import atomic_writer

    count, writer = 0, None
    with atomic_writer(output, binary=True) as out:
        for batch in lines.iter_batches(batch_format="numpy", batch_size=1024):
            records = [json.loads(line) for line in batch[LINE]]
            table = pa.Table.from_pylist(records, schema=None if writer is None else writer.schema)
            writer = writer or pq.ParquetWriter(out, table.schema)
            writer.write_table(table)
            count += len(records)
        if writer is not None:
            writer.close()
    return count
