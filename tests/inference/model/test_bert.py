"""The plain-torch BERT encoder against transformers' BertModel: same parameters, same outputs, same gradients."""

import pytest
import torch
from transformers import BertConfig, BertModel

from inference.model import bert
from inference.model.bert import BertEncoder, supports

SETTINGS = {
    "model_type": "bert",
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "vocab_size": 120,
    "max_position_embeddings": 40,
}


def _pair(dropout: float = 0.0, **settings):
    torch.manual_seed(0)
    fields = {**SETTINGS, "hidden_dropout_prob": dropout, "attention_probs_dropout_prob": dropout, **settings}
    reference = BertModel(BertConfig(**fields))
    ours = BertEncoder(fields)
    ours.load_state_dict(reference.state_dict())  # strict: every name is BertModel's
    return reference, ours


def _batch(windows: int = 5, tokens: int = 17, seed: int = 1):
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(1, SETTINGS["vocab_size"], (windows, tokens), generator=generator)
    mask = torch.ones_like(input_ids)
    mask[1, 9:] = 0  # padded windows of different lengths
    mask[3, 4:] = 0
    segments = (torch.arange(tokens) >= tokens // 2).long().expand(windows, -1).contiguous()
    return input_ids, mask, segments


def test_the_state_dicts_have_the_same_names_and_shapes():
    reference, ours = _pair()
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in reference.state_dict().items()}
    assert BertModel(BertConfig(**SETTINGS)).load_state_dict(ours.state_dict()) is not None


@pytest.mark.parametrize("act", ["gelu", "relu", "gelu_new"])
def test_fp32_hidden_states_equal_bertmodel_on_real_tokens(act):
    reference, ours = _pair(hidden_act=act)
    input_ids, mask, segments = _batch()
    with torch.inference_mode():
        for types in (None, segments):
            expected = reference(input_ids=input_ids, attention_mask=mask, token_type_ids=types).last_hidden_state
            got = ours(input_ids, mask, types).last_hidden_state
            real = mask.bool()
            torch.testing.assert_close(got[real], expected[real], atol=1e-5, rtol=1e-5)


def test_an_all_ones_mask_and_no_mask_give_the_same_states():
    _, ours = _pair()
    input_ids, _, _ = _batch()
    with torch.inference_mode():
        torch.testing.assert_close(
            ours(input_ids, torch.ones_like(input_ids)).last_hidden_state, ours(input_ids).last_hidden_state
        )


def test_bf16_autocast_stays_close_to_bertmodel_under_autocast():
    reference, ours = _pair()
    input_ids, mask, _ = _batch()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        expected = reference(input_ids=input_ids, attention_mask=mask).last_hidden_state.float()
        got = ours(input_ids, mask).last_hidden_state.float()
    real = mask.bool()
    assert (got[real] - expected[real]).abs().max() < 0.1  # bf16 keeps ~3 significant digits of unit-scale states


def test_gradients_equal_bertmodel_in_training_mode_without_dropout():
    reference, ours = _pair()
    reference.train()
    ours.train()
    input_ids, mask, segments = _batch()
    for model, output in ((reference, None), (ours, None)):
        output = model(input_ids=input_ids, attention_mask=mask, token_type_ids=segments).last_hidden_state
        (output * mask.unsqueeze(-1)).pow(2).mean().backward()
    ours_grads = dict(ours.named_parameters())
    for name, parameter in reference.named_parameters():
        if name.startswith("pooler."):  # computed by BertModel but unused by either
            continue
        torch.testing.assert_close(ours_grads[name].grad, parameter.grad, atol=1e-5, rtol=1e-4, msg=name)


def test_dropout_acts_in_training_mode_only():
    _, ours = _pair(dropout=0.3)
    input_ids, mask, _ = _batch()
    ours.train()
    torch.manual_seed(0)
    first = ours(input_ids, mask).last_hidden_state
    second = ours(input_ids, mask).last_hidden_state
    assert not torch.allclose(first, second)
    ours.eval()
    with torch.inference_mode():
        torch.testing.assert_close(ours(input_ids, mask).last_hidden_state, ours(input_ids, mask).last_hidden_state)


@pytest.mark.parametrize(
    "change",
    [
        {"model_type": "roberta"},
        {"position_embedding_type": "relative_key"},
        {"hidden_act": "swish"},
        {"is_decoder": True},
        {"hidden_size": 30},  # not a multiple of the 4 heads
    ],
)
def test_encoders_it_cannot_reproduce_are_left_to_transformers(change):
    assert supports(SETTINGS)
    assert supports(BertConfig(**SETTINGS))
    assert not supports({**SETTINGS, **change})
    with pytest.raises(ValueError, match="absolute positions only"):
        BertEncoder({**SETTINGS, **change})


def _plain_and_fused(dtype: torch.dtype) -> tuple[BertEncoder, BertEncoder]:
    """Two encoders with the same weights, in eval mode: the plain layers, and the layers fused in ``dtype``."""
    _, plain = _pair()
    fused = BertEncoder(SETTINGS)
    fused.load_state_dict(plain.state_dict())
    return plain.eval(), fused.eval().fuse(dtype)


def test_the_fused_layers_compute_the_plain_layers_sums_in_fp32():
    """fuse(float32) joins the query, key and value products and keeps the states in fp32: the same sums."""
    plain, fused = _plain_and_fused(torch.float32)
    input_ids, mask, segments = _batch()
    real = mask.bool()
    with torch.inference_mode():
        expected = plain(input_ids, mask, segments).last_hidden_state
        got = fused(input_ids, mask, segments).last_hidden_state
    torch.testing.assert_close(got[real], expected[real], atol=1e-5, rtol=1e-5)


def test_the_fused_bf16_layers_stay_within_bf16_tolerance_of_the_plain_layers_under_autocast():
    plain, fused = _plain_and_fused(torch.bfloat16)
    input_ids, mask, _ = _batch()
    real = mask.bool()
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        expected = plain(input_ids, mask).last_hidden_state.float()
        got = fused(input_ids, mask).last_hidden_state
    assert got.dtype == torch.bfloat16  # the states stay in the fused precision between layers
    difference = (got.float()[real] - expected[real]).abs()
    assert difference.max() < 0.1 and difference.mean() < 0.01  # bf16 keeps ~3 significant digits
    assert difference.max() > 0  # the fused path ran: bf16 states round differently from the plain path's fp32


class _CountingLinear:
    """Stands in for torch's oneDNN linear, counting the calls of each kind before passing them on."""

    def __init__(self, op):
        self.op, self.calls = op, {"product": 0, "sum": 0}

    def __call__(self, *args):
        self.calls["product"] += 1
        return self.op(*args)

    def binary(self, *args):
        self.calls["sum"] += 1
        return self.op.binary(*args)


@pytest.mark.skipif(bert.ONEDNN_LINEAR is None, reason="this torch build has no oneDNN")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_onednns_fused_products_give_the_composed_products_states(monkeypatch, dtype):
    """On the CPU the fused layers add the residual and apply GELU inside oneDNN's product; the same layers
    composed of separate torch ops give the same states (fp32: within 1e-5; bf16: within its rounding)."""
    _, fused = _plain_and_fused(dtype)
    input_ids, mask, _ = _batch()
    real = mask.bool()
    counting = _CountingLinear(bert.ONEDNN_LINEAR)
    monkeypatch.setattr(bert, "ONEDNN_LINEAR", counting)
    with torch.inference_mode():
        inside = fused(input_ids, mask).last_hidden_state.float()
        monkeypatch.setattr(bert, "ONEDNN_LINEAR", None)
        composed = fused(input_ids, mask).last_hidden_state.float()
    layers = SETTINGS["num_hidden_layers"]
    # oneDNN did the work in the first pass: query-key-value and GELU products, and two with the residual added
    assert counting.calls == {"product": 2 * layers, "sum": 2 * layers}
    if dtype == torch.float32:
        torch.testing.assert_close(inside[real], composed[real], atol=1e-5, rtol=1e-5)
    else:
        difference = (inside[real] - composed[real]).abs()
        assert difference.max() < 0.1 and difference.mean() < 0.01


def test_fusing_leaves_the_state_dict_alone_and_training_drops_it():
    plain, fused = _plain_and_fused(torch.bfloat16)
    assert {k: v.dtype for k, v in fused.state_dict().items()} == {k: v.dtype for k, v in plain.state_dict().items()}
    assert all(torch.equal(fused.state_dict()[k], v) for k, v in plain.state_dict().items())
    fused.train()
    assert not [name for name, _ in fused.named_buffers() if "fused_" in name]
    input_ids, mask, _ = _batch()
    with torch.inference_mode():
        torch.testing.assert_close(
            fused.eval()(input_ids, mask).last_hidden_state, plain(input_ids, mask).last_hidden_state
        )


@pytest.mark.parametrize("dtype", ["bf16", None, torch.int8])
def test_fuse_refuses_what_is_not_a_floating_point_dtype(dtype):
    with pytest.raises(TypeError, match="fuse takes a floating-point torch dtype"):
        BertEncoder(SETTINGS).eval().fuse(dtype)
