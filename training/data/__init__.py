"""Reads labelled articles, splits them and checks them before any training starts.

    splits = load_splits(config)          # {"train": Dataset, "validation": Dataset, ...}
    label_lists = fit_labels(config, splits["train"])
    data = load_task_data(config)         # all of it, for one or several datasets: splits, label_lists, scrub_names

Files are read with the ``datasets`` library (CSV, TSV, JSON, JSONL, ``.gz`` and Parquet). Every problem is a
:class:`DataError` naming the file, the row (1-based, as a person counts rows; for CSV the header is not counted) and
the column.

The package, top down: ``task_data`` (a config's data, one dataset or several) → ``splits`` (train / validation /
test, sample limits, outlet scrubbing) and ``labels`` (label lists and ids) → ``rows`` (a table's rows to article
fields and labels) → ``files`` (reading and checking one file).
"""

from training.data.files import DataError, file_format, quiet_datasets, read_rows, read_table, user_columns
from training.data.labels import check_eval_labels, encode_labels, fit_labels, label_ids, untrained_label_ids
from training.data.rows import field_columns, join_columns, prepare, seeded_draw, where
from training.data.splits import SPLITS, load_splits, scrub_splits, split_rows
from training.data.task_data import TaskData, load_task_data

__all__ = [
    "SPLITS",
    "DataError",
    "TaskData",
    "check_eval_labels",
    "encode_labels",
    "field_columns",
    "file_format",
    "fit_labels",
    "join_columns",
    "label_ids",
    "load_splits",
    "load_task_data",
    "prepare",
    "quiet_datasets",
    "read_rows",
    "read_table",
    "scrub_splits",
    "seeded_draw",
    "split_rows",
    "untrained_label_ids",
    "user_columns",
    "where",
]
