"""The plain-torch FolderModel and its loader: NewsClassifier's logits without transformers' model classes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from inference import ModelFolderError, NewsClassifier, Predictor, load_model_folder
from inference.model.heads import FolderModel
from inference.model.loading import load_for_prediction
from inference.model.manifest import write_manifest
from inference.model.settings import ModelSettings
from inference.model.tokenizer import FolderTokenizer
from inference.model.windowing import collate_windows, encode_articles

ARTICLES = ["inflation market wages bank", "hospital vaccine doctors " * 30, "match goal team"]


def _batch(tokenizer, config):
    return collate_windows(encode_articles(tokenizer, ARTICLES, config.window_config), tokenizer.pad_token_id)


def test_a_bert_folder_loads_as_a_folder_model_with_the_same_settings(tiny_model_dir: Path):
    model, tokenizer = load_for_prediction(tiny_model_dir)
    reference, _ = load_model_folder(tiny_model_dir)
    assert isinstance(model, FolderModel) and isinstance(tokenizer, FolderTokenizer)
    assert not model.training
    for name in ("task_names", "text_fields", "window", "token_pooling", "window_pooling", "scrub_names"):
        assert getattr(model.config, name) == getattr(reference.config, name), name
    assert model.config.tasks == reference.config.tasks
    assert model.state_dict().keys() == reference.state_dict().keys()


def test_folder_model_logits_equal_news_classifier_logits(tiny_model_dir: Path):
    model, tokenizer = load_for_prediction(tiny_model_dir)
    reference, _ = load_model_folder(tiny_model_dir)
    batch = _batch(tokenizer, model.config)
    assert batch["window_to_article"].tolist().count(1) > 1  # the long article has several windows to pool
    with torch.inference_mode():
        got, expected = model(**batch), reference(**batch)
    for ours, theirs in zip(got.logits, expected.logits, strict=True):
        torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


def test_folder_model_computes_the_same_loss():
    settings = ModelSettings(
        encoder={"model_type": "bert", "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                 "intermediate_size": 32, "vocab_size": 50},
        tasks=[{"name": "topic", "labels": ["a", "b", "c"]}],
    )  # fmt: skip
    model = FolderModel(settings).eval()
    input_ids = torch.randint(1, 50, (2, 6), generator=torch.Generator().manual_seed(0))
    output = model(input_ids, labels_topic=torch.tensor([0, 2]))
    expected = torch.nn.functional.cross_entropy(output.logits[0], torch.tensor([0, 2]))
    torch.testing.assert_close(output.loss, expected)


def test_predictor_loads_the_plain_torch_model_and_predicts_as_transformers_would(tiny_model_dir: Path):
    predictor = Predictor.from_pretrained(tiny_model_dir, backend="torch", precision="fp32")
    assert isinstance(predictor.model, FolderModel)
    reference = Predictor(*load_model_folder(tiny_model_dir), calibration=predictor.calibration)
    for ours, theirs in zip(predictor.predict_proba(ARTICLES).values(), reference.predict_proba(ARTICLES).values()):
        assert abs(ours - theirs).max() < 1e-5


@pytest.mark.parametrize("folder", ["tiny_model_dir", "tiny_mpnet_model_dir"])
def test_predicting_imports_no_transformers_model_classes(folder: str, request: pytest.FixtureRequest):
    model_dir = request.getfixturevalue(folder)
    code = (
        "import sys; from inference import predict; "
        f"predict('the market and wages', model={str(model_dir)!r}); "
        "print(sorted(m for m in sys.modules if m.startswith('transformers')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_an_encoder_it_does_not_cover_loads_with_transformers(tiny_model_dir: Path, tmp_path: Path):
    folder = Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))
    settings = json.loads((folder / "tokenizer_config.json").read_text())
    (folder / "tokenizer_config.json").write_text(json.dumps({**settings, "tokenizer_class": "SomeOtherTokenizer"}))
    write_manifest(folder)
    model, _ = load_for_prediction(folder)
    assert isinstance(model, NewsClassifier)


def test_weights_that_do_not_fit_name_the_folder(tiny_model_dir: Path, tmp_path: Path):
    folder = Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))
    config = json.loads((folder / "config.json").read_text())
    config["encoder"]["hidden_size"] = 64  # the saved weights are 32 wide
    config["encoder"]["intermediate_size"] = 128
    (folder / "config.json").write_text(json.dumps(config))
    write_manifest(folder)
    with pytest.raises(ModelFolderError, match="cannot load the model") as caught:
        load_for_prediction(folder)
    assert str(folder) in str(caught.value)


def test_settings_keep_only_what_prediction_reads(tiny_model_dir: Path, tmp_path: Path):
    settings = ModelSettings.from_file(tiny_model_dir / "config.json")
    assert settings.task_names == ["topic", "leaning"]
    assert settings.window_config.strategy == "chunks"
    assert not hasattr(settings, "transformers_version")
    with pytest.raises(ValueError, match="expected a JSON object"):
        bad = tmp_path / "not-an-object.json"
        bad.write_text("[1, 2]")
        ModelSettings.from_file(bad)


def test_the_onnx_path_reads_settings_and_tokenizer_without_transformers(tiny_model_dir: Path, tmp_path: Path):
    from inference.model.loading import load_config_and_tokenizer

    settings, tokenizer = load_config_and_tokenizer(tiny_model_dir)
    assert isinstance(settings, ModelSettings) and isinstance(tokenizer, FolderTokenizer)
    assert settings.task_names == ["topic", "leaning"]
    folder = Path(shutil.copytree(tiny_model_dir, tmp_path / "model"))
    (folder / "tokenizer.json").write_text("{")
    write_manifest(folder)
    with pytest.raises(ModelFolderError, match="cannot load the tokenizer") as caught:
        load_config_and_tokenizer(folder)
    assert str(folder) in str(caught.value)
