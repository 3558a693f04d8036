"""The plain-torch BERT encoder against transformers' BertModel: same parameters, same outputs, same gradients."""

import pytest
import torch
from transformers import BertConfig, BertModel

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
