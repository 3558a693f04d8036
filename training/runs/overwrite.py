"""The files a config reads, so that nothing a command writes lands on one of them."""

from __future__ import annotations

from pathlib import Path

from inference.paths import InputOverwriteError, refuse_overwriting_inputs
from training.config import Config, DataConfig

__all__ = ["InputOverwriteError", "config_inputs", "dataset_files", "refuse_run_folder_over_inputs"]


def dataset_files(data: DataConfig) -> list[str]:
    """The files one dataset of a config is read from: its data, split and joined files."""
    files = [data.train_file, data.validation_file, data.test_file, data.split.file, *data.join.files]
    return [file for file in files if file]


def config_inputs(config: Config) -> list[str]:
    """Every file ``newsclf-train`` reads for ``config``: the config file itself, each dataset's files,
    and the encoder when ``model.name`` is a local folder."""
    files = [config.source]
    for data in [config.data, *config.datasets.values()]:
        files += dataset_files(data)
    if Path(config.model.name).exists():
        files.append(config.model.name)
    return [file for file in files if file]


def refuse_run_folder_over_inputs(config: Config, run_dir: Path) -> None:
    """Raises :class:`inference.paths.InputOverwriteError` when ``run_dir`` is, or holds, a file the run reads."""
    refuse_overwriting_inputs([run_dir], config_inputs(config))
