"""Articles without labels that a teacher labels for its student (``training.teacher_articles``): read with the
data's text fields, outlet names scrubbed as the training texts were."""

from __future__ import annotations

import logging
from pathlib import Path

import datasets

from inference.model.windowing import TARGET_FIELD
from inference.prediction.scrub import OutletScrubber
from training.config import Config, ConfigError
from training.data.files import DataError, file_format, quiet_datasets, read_rows
from training.data.rows import join_columns, prepare
from training.data.splits import scrub_texts

logger = logging.getLogger(__name__)


def check_teacher_articles(config: Config) -> None:
    """Refuses a ``training.teacher_articles`` file that is not there or of no type the data reader knows.

    Raises:
        ConfigError: naming the key and the file.
    """
    for file in config.training.teacher_articles:
        path = Path(file)
        if not path.is_file():
            raise ConfigError(f"training.teacher_articles: {path}: no such file")
        try:
            file_format(path)
        except DataError as error:
            raise ConfigError(f"training.teacher_articles: {error}") from None


def read_teacher_articles(config: Config, scrub_names: list[str] | None) -> datasets.Dataset | None:
    """The ``training.teacher_articles`` files' articles in one table (``text``, and ``target`` for pair tasks), read
    as the training file is (``data.join`` included), with ``scrub_names`` (the training split's outlets) scrubbed from
    them; None when the setting names none.

    Raises:
        DataError: naming the file (and row) that cannot be read, lacks the text fields or has an empty text.
    """
    files = config.training.teacher_articles
    if not files:
        return None
    columns = ["text", *([TARGET_FIELD] if any(task.kind == "pair" for task in config.tasks) else [])]
    with quiet_datasets():
        parts = [prepare(join_columns(read_rows(file), config, file), config, file, labelled=False) for file in files]
        table = datasets.concatenate_datasets([part.select_columns(columns) for part in parts])
    if scrub_names:
        table = scrub_texts(table, OutletScrubber(scrub_names), "teacher articles")
    logger.info("teacher articles: %d articles without labels from %s", len(table), ", ".join(files))
    return table
