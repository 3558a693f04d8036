"""The plain-torch MPNet encoder against transformers' MPNetModel: same parameters, same outputs, same gradients;
and an mpnet folder loaded and predicted through it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import MPNetConfig, MPNetModel
from transformers.models.mpnet.modeling_mpnet import MPNetEncoder as TransformersMPNetEncoder

from inference import Predictor, load_model_folder
from inference.model.classifier import transformers_encoder
from inference.model.heads import FolderModel
from inference.model.loading import load_for_prediction
from inference.model.mpnet import PADDING_INDEX, MPNetEncoder, relative_buckets, supports
from inference.model.native import native_encoder
from inference.model.tokenizer import FolderTokenizer

SETTINGS = {
    "model_type": "mpnet",
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "vocab_size": 120,
    "max_position_embeddings": 160,
    "layer_norm_eps": 1e-5,
}
ARTICLES = ["inflation market wages bank", "hospital vaccine doctors " * 30, "match goal team"]


def _pair(dropout: float = 0.0) -> tuple[MPNetModel, MPNetEncoder]:
    torch.manual_seed(0)
    fields = {**SETTINGS, "hidden_dropout_prob": dropout, "attention_probs_dropout_prob": dropout}
    reference = MPNetModel(MPNetConfig(**fields))
    with torch.no_grad():  # MPNet starts its relative biases at zero; random ones make the test able to fail
        reference.encoder.relative_attention_bias.weight.normal_(0.0, 1.0)
    ours = MPNetEncoder(fields)
    ours.load_state_dict(reference.state_dict())  # strict: every name is MPNetModel's
    return reference, ours


def _batch(windows: int = 5, tokens: int = 150, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Windows longer than the buckets' exact range (8) and their log range (128), some padded as windows are."""
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(3, SETTINGS["vocab_size"], (windows, tokens), generator=generator)
    mask = torch.ones_like(input_ids)
    mask[1, 90:] = 0
    mask[3, 4:] = 0
    return input_ids.masked_fill(mask == 0, PADDING_INDEX), mask


def test_the_state_dicts_have_the_same_names_and_shapes():
    reference, ours = _pair()
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in reference.state_dict().items()}
    assert MPNetModel(MPNetConfig(**SETTINGS)).load_state_dict(ours.state_dict()) is not None


def test_the_relative_buckets_are_mpnets():
    distance = torch.arange(300)[None, :] - torch.arange(300)[:, None]  # key minus query, as transformers takes it
    expected = TransformersMPNetEncoder.relative_position_bucket(distance, num_buckets=32)
    assert torch.equal(relative_buckets(300, 32), expected)


def test_fp32_hidden_states_equal_mpnetmodel_on_real_tokens():
    reference, ours = _pair()
    input_ids, mask = _batch()
    with torch.inference_mode():
        expected = reference(input_ids=input_ids, attention_mask=mask).last_hidden_state
        got = ours(input_ids, mask).last_hidden_state
    real = mask.bool()
    torch.testing.assert_close(got[real], expected[real], atol=1e-5, rtol=1e-5)


def test_segment_ids_are_read_by_neither():
    _, ours = _pair()
    input_ids, mask = _batch()
    segments = (torch.arange(input_ids.shape[1]) > 20).long().expand_as(input_ids)
    with torch.inference_mode():
        torch.testing.assert_close(ours(input_ids, mask, segments).last_hidden_state, ours(input_ids, mask)[0])


def test_gradients_equal_mpnetmodel_in_training_mode_without_dropout():
    reference, ours = _pair()
    input_ids, mask = _batch()
    for model in (reference.train(), ours.train()):
        output = model(input_ids=input_ids, attention_mask=mask).last_hidden_state
        (output * mask.unsqueeze(-1)).pow(2).mean().backward()
    ours_grads = dict(ours.named_parameters())
    for name, parameter in reference.named_parameters():
        if name.startswith("pooler."):  # computed by MPNetModel but unused by either
            continue
        torch.testing.assert_close(ours_grads[name].grad, parameter.grad, atol=1e-5, rtol=1e-4, msg=name)


def test_the_fused_layers_equal_the_plain_ones_in_fp32_and_stay_within_bf16_tolerance():
    _, plain = _pair()
    fused = MPNetEncoder(SETTINGS)
    fused.load_state_dict(plain.state_dict())
    input_ids, mask = _batch()
    real = mask.bool()
    plain.eval()
    with torch.inference_mode():
        expected = plain(input_ids, mask).last_hidden_state
        got = fused.eval().fuse(torch.float32)(input_ids, mask).last_hidden_state
        torch.testing.assert_close(got[real], expected[real], atol=1e-5, rtol=1e-5)
        fused.fuse(torch.bfloat16)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            expected = plain(input_ids, mask).last_hidden_state.float()
            got = fused(input_ids, mask).last_hidden_state
    assert got.dtype == torch.bfloat16
    difference = (got.float()[real] - expected[real]).abs()
    assert difference.max() < 0.15 and difference.mean() < 0.02  # bf16 keeps ~3 significant digits


@pytest.mark.parametrize("change", [{"model_type": "bert"}, {"hidden_act": "swish"}, {"hidden_size": 30}])
def test_encoders_it_cannot_reproduce_are_refused(change):
    assert supports(SETTINGS) and supports(MPNetConfig(**SETTINGS))
    assert not supports({**SETTINGS, **change})
    with pytest.raises(ValueError, match="MPNet encoders only"):
        MPNetEncoder({**SETTINGS, **change})


def test_the_native_encoders_are_chosen_by_model_type():
    assert isinstance(native_encoder(SETTINGS), MPNetEncoder)
    with pytest.raises(ValueError, match="no plain-torch encoder for model_type 'roberta'"):
        native_encoder({**SETTINGS, "model_type": "roberta"})


def test_an_mpnet_folder_loads_in_plain_torch_with_transformers_logits(tiny_mpnet_model_dir: Path):
    from inference.model.windowing import collate_windows, encode_articles

    model, tokenizer = load_for_prediction(tiny_mpnet_model_dir)
    assert isinstance(model, FolderModel) and isinstance(model.encoder, MPNetEncoder)
    assert isinstance(tokenizer, FolderTokenizer) and tokenizer.pad_token_id == PADDING_INDEX
    reference, reference_tokenizer = load_model_folder(tiny_mpnet_model_dir)
    reference.encoder = transformers_encoder(reference)
    assert type(reference.encoder).__name__ == "MPNetModel"
    windows = encode_articles(tokenizer, ARTICLES, model.config.window_config)
    assert windows == encode_articles(reference_tokenizer, ARTICLES, model.config.window_config)
    batch = collate_windows(windows, tokenizer.pad_token_id)
    assert batch["window_to_article"].tolist().count(1) > 1  # padded windows, pooled per article
    with torch.inference_mode():
        got, expected = model(**batch), reference(**batch)
    for ours, theirs in zip(got.logits, expected.logits, strict=True):
        torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


def test_bf16_prediction_of_an_mpnet_folder_gives_fp32s_labels(tiny_mpnet_model_dir: Path):
    fp32 = Predictor.from_pretrained(tiny_mpnet_model_dir, backend="torch", precision="fp32")
    bf16 = Predictor.from_pretrained(tiny_mpnet_model_dir, backend="torch", precision="bf16")
    assert isinstance(bf16.model.encoder, MPNetEncoder)
    assert bf16.model.encoder.encoder["layer"][0].fused_dtype == torch.bfloat16  # the fused path predicts
    expected, got = fp32.predict_proba(ARTICLES), bf16.predict_proba(ARTICLES)
    for task in expected:
        assert abs(got[task] - expected[task]).max() < 0.05  # bf16 keeps ~3 significant digits
