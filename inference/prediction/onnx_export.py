"""Exports a saved model to ONNX Runtime (fp32, and dynamic int8 on request), checked against torch.

    newsclf-export --model runs/allsides-random/model --quantize int8
    python -m inference.prediction.onnx_export --model runs/default/model --sample articles.jsonl --overwrite

Writes ``<model>/onnx/model.onnx`` (and ``model.int8.onnx``) plus ``export.json``, which records the
versions used and how closely each file's predictions match the torch model on sample articles
(built-in ones, or ``--sample``). A fp32 export that does not reproduce the torch probabilities is an
error; an int8 export whose labels agree with fp32 on fewer than ``--min-agreement`` of the samples
is an error too, so a badly quantized file never lands where ``backend="auto"`` would pick it.

The graph takes the windows of a batch plus an ``(articles, windows)`` 0/1 ``assignment`` matrix, so
pooling windows into articles is a matrix product (mean) or a masked maximum (max) that every ONNX
runtime has. Attention is exported in its plain ("eager") form, which ONNX Runtime's BERT optimizer
fuses into its own attention kernel; int8 is per-channel dynamic quantization of every weight matrix.
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import sys
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..atomic import default_permissions
from ..model.bert import PlainEncoder
from ..model.classifier import NewsClassifier, transformers_encoder
from ..model.folder_layout import MANIFEST
from ..model.loading import ModelFolderError, load_model_folder
from ..model.manifest import add_to_manifest
from ..paths import refuse_overwriting_inputs
from .backends import ONNX_FILES, ONNX_FOLDER, PAIR_INPUT, onnx_inputs
from .onnx_backend import OnnxBackend
from .predictor import Predictor

OPSET = 17
FP32_TOLERANCE = 1e-3  # largest |probability difference| a faithful fp32 export may show
SAMPLE_ARTICLES = [
    "The Senate passed the spending bill late on Thursday after a week of negotiations over border funding.",
    {"title": "Central bank raises rates", "content": "Inflation stayed high, so the bank raised rates again. " * 30},
    {"title": "Storm floods coastal towns", "content": "Thousands were evacuated as the river burst its banks."},
    "The coach praised the team after a late goal won the cup final in front of a record crowd.",
    {"title": "Vaccine trial results", "content": "Doctors reported that the new vaccine cut hospital stays. " * 60},
    "Opinion: the president's plan to cut taxes will help families far less than its supporters claim.",
    {"title": "School board vote", "content": "Parents packed the meeting as the board voted on the curriculum."},
    "Lawmakers clashed over immigration, climate policy and the minimum wage in a heated televised debate.",
]


class ExportError(RuntimeError):
    """The exported model does not reproduce the torch model closely enough."""


class OnnxGraph(nn.Module):
    """The forward pass as ONNX sees it: windows in, one logits tensor per task out."""

    def __init__(self, model: NewsClassifier) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        assignment: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, ...]:
        windows = self.model.encode_windows(input_ids, attention_mask, token_type_ids)
        return self.model.classify(self.model.pool_windows(windows, assignment))


def export_onnx(model: NewsClassifier, path: Path) -> None:
    """Traces ``model`` into an fp32 ONNX file at ``path`` (optimized for BERT-style encoders).

    The encoder is traced as transformers' class with eager attention (the same weights), whose graph
    ONNX Runtime's BERT optimizer recognises and fuses; ``model`` itself is changed (pass a copy).
    """
    model = model.float().eval()
    if isinstance(model.encoder, PlainEncoder):
        model.encoder = transformers_encoder(model, attn_implementation="eager")
    else:
        model.encoder.set_attn_implementation("eager")
    input_ids = torch.ones((2, 8), dtype=torch.long)
    assignment = torch.eye(2)
    inputs: tuple[torch.Tensor, ...] = (input_ids, torch.ones_like(input_ids), assignment)
    if model.config.reads_pairs:
        inputs += (torch.zeros_like(input_ids),)
    input_axes = {
        "input_ids": {0: "windows", 1: "tokens"},
        "attention_mask": {0: "windows", 1: "tokens"},
        "assignment": {0: "articles", 1: "windows"},
        PAIR_INPUT: {0: "windows", 1: "tokens"},
    }
    dynamic = {name: input_axes[name] for name in onnx_inputs(model.config)}
    dynamic |= {name: {0: "articles"} for name in model.config.task_names}
    raw = path.with_suffix(".raw.onnx")
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            OnnxGraph(model),
            inputs,
            str(raw),
            input_names=onnx_inputs(model.config),
            output_names=model.config.task_names,
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
        )
    encoder = model.encoder.config
    if encoder.model_type in ("bert", "roberta", "distilbert", "xlm-roberta", "electra"):
        from onnxruntime.transformers.optimizer import optimize_model

        optimized = optimize_model(
            str(raw),
            model_type="bert",
            num_heads=encoder.num_attention_heads,
            hidden_size=encoder.hidden_size,
        )
        optimized.save_model_to_file(str(path))
        raw.unlink()
    else:
        raw.replace(path)


def quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 quantization of every weight matrix, one scale per output channel."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(logging.ERROR)  # the quantizer warns on the root logger about fused ops
    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )


def with_targets(articles: Sequence[Any]) -> list[dict[str, Any]]:
    """The sample articles as dicts with a ``target`` (for models with pair tasks): each is read against the
    next one's opening words, so the targets are news claims, some related and most not."""

    def opening(article: Any) -> str:
        text = article if isinstance(article, str) else " ".join(str(v) for v in article.values())
        return " ".join(text.split()[:8])

    dicts = [{"content": a} if isinstance(a, str) else dict(a) for a in articles]
    return [{**article, "target": opening(articles[(i + 1) % len(articles)])} for i, article in enumerate(dicts)]


def compare(reference: Predictor, candidate: Predictor, articles: Sequence[Any]) -> dict[str, dict[str, float]]:
    """Label agreement and largest probability difference of ``candidate`` against ``reference``, per task."""
    expected, got = reference.predict_proba(articles), candidate.predict_proba(articles)
    return {
        task: {
            "label_agreement": float((expected[task].argmax(1) == got[task].argmax(1)).mean()),
            "max_abs_probability_diff": float(np.abs(expected[task] - got[task]).max()),
        }
        for task in expected
    }


def export_model_folder(
    folder: str | Path,
    *,
    quantize: str | None = None,
    sample: Sequence[Any] | None = None,
    min_agreement: float = 0.9,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Writes ``<folder>/onnx/`` and returns what ``export.json`` records.

    Args:
        folder: a model folder written by ``newsclf-train``.
        quantize: ``None`` for fp32 only, ``"int8"`` to add the int8 file.
        sample: articles to check the export on; default: a few built-in news snippets.
        min_agreement: the least share of sample labels int8 must keep, per task.
        overwrite: replace an existing ``onnx/`` folder.

    Raises:
        ModelFolderError: the folder cannot be loaded, or ``onnx/`` exists and ``overwrite`` is off.
        ExportError: the exported files disagree with torch beyond the tolerances above.
    """
    if quantize not in (None, "int8"):
        raise ValueError(f"quantize must be None or 'int8', got {quantize!r}")
    import onnxruntime

    model, tokenizer = load_model_folder(folder)
    target = Path(folder) / ONNX_FOLDER
    if target.exists() and not overwrite:
        raise ModelFolderError(f"{target} exists; pass --overwrite to replace it")
    articles = list(sample or SAMPLE_ARTICLES)
    if model.config.reads_pairs and not sample:
        articles = with_targets(articles)
    reference = Predictor(model, tokenizer)
    record: dict[str, Any] = {
        "files": {},
        "opset": OPSET,
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "sample_articles": len(articles),
    }
    staging = Path(tempfile.mkdtemp(prefix=".onnx-", dir=folder))
    try:
        fp32 = staging / ONNX_FILES["fp32"]
        export_onnx(copy.deepcopy(model), fp32)
        record["files"]["fp32"] = _checked_file(fp32, "fp32", reference, articles, min_agreement)
        if quantize == "int8":
            int8 = staging / ONNX_FILES["int8"]
            quantize_int8(fp32, int8)
            record["files"]["int8"] = _checked_file(int8, "int8", reference, articles, min_agreement)
        _publish(staging, target, record)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return record


def _checked_file(
    path: Path, precision: str, reference: Predictor, articles: Sequence[Any], min_agreement: float
) -> dict[str, Any]:
    """Compares the ONNX file at ``path`` with the torch ``reference`` on ``articles``; returns its record.

    Raises:
        ExportError: fp32 probabilities differ by more than ``FP32_TOLERANCE``, or int8 labels agree on
            less than ``min_agreement`` of the articles for some task.
    """
    candidate = Predictor(OnnxBackend(path, reference.config, precision, 1), reference.tokenizer)
    check = compare(reference, candidate, articles)
    if precision == "fp32":
        worst = max(task["max_abs_probability_diff"] for task in check.values())
        if worst > FP32_TOLERANCE:
            raise ExportError(f"fp32 ONNX probabilities differ from torch by up to {worst:.2g} (tolerance 1e-3)")
    else:
        low = {name: task["label_agreement"] for name, task in check.items() if task["label_agreement"] < min_agreement}
        if low:
            raise ExportError(f"int8 labels agree with torch fp32 on too few sample articles: {low}")
    return {"file": ONNX_FILES[precision], "check_against_torch": check}


def _publish(staging: Path, target: Path, record: dict[str, Any]) -> None:
    """Writes ``export.json`` into ``staging``, renames it to ``target`` (replacing an old one) and lists its files
    in the model folder's manifest."""
    (staging / "export.json").write_text(json.dumps(record, indent=2) + "\n")
    staging.chmod(default_permissions(directory=True))
    if target.exists():
        shutil.rmtree(target)
    staging.replace(target)
    files = sorted(path.relative_to(target.parent) for path in target.rglob("*") if path.is_file())
    add_to_manifest(target.parent, files, drop_prefix=f"{ONNX_FOLDER}/")


def _read_sample(path: str) -> list[Any]:
    from ..batch.articles import read_articles

    return list(read_articles(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="newsclf-export", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="model folder written by newsclf-train")
    parser.add_argument("--quantize", choices=["int8"], help="also write a dynamic-int8 model")
    parser.add_argument("--sample", help="articles (.jsonl/.txt) to check the export on; default: built-in snippets")
    parser.add_argument("--min-agreement", type=float, default=0.9, help="least int8 label agreement per task")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing onnx/ folder")
    args = parser.parse_args(argv)
    try:
        folder = Path(args.model)
        refuse_overwriting_inputs([folder / ONNX_FOLDER, folder / MANIFEST], [args.sample])
        sample = _read_sample(args.sample) if args.sample else None
        record = export_model_folder(
            args.model,
            quantize=args.quantize,
            sample=sample,
            min_agreement=args.min_agreement,
            overwrite=args.overwrite,
        )
    except ImportError as error:
        print(f"error: export needs the onnx extra ({error}); pip install 'newsclf[onnx]'", file=sys.stderr)
        return 2
    except (ModelFolderError, ExportError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for precision, entry in record["files"].items():
        checks = ", ".join(
            f"{task} {value['label_agreement']:.0%} same label, max |Δp| {value['max_abs_probability_diff']:.1e}"
            for task, value in entry["check_against_torch"].items()
        )
        print(f"{Path(args.model) / ONNX_FOLDER / entry['file']} ({precision}): {checks}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
