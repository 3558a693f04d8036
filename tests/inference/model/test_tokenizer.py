"""FolderTokenizer (``tokenizers`` alone) gives the ids of transformers' tokenizer for the same folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer

from inference.model.tokenizer import TOKENIZER_CONFIG, FolderTokenizer, folder_tokenizer_supported
from inference.model.windowing import PLAIN_TOKENS, WindowConfig, encode_articles, encode_pairs

TEXTS = [
    "Senate passes the budget after a late-night vote",
    "Café owners in Zürich said «non» — prices rose 3.5% (again)!",
    "北京 announced new rules; Москва responded. 🎉 emoji too",
    "  leading and trailing spaces\tand\ttabs\nand lines  ",
    "",
    "word " * 400,  # longer than the 128 tokens tokenizer.json truncates to: we must not truncate
    "don't stop—it's O'Neill's U.S.-based co-op, isn't it?",
]


@pytest.fixture(scope="module")
def both(minilm_path: Path):
    return AutoTokenizer.from_pretrained(minilm_path), FolderTokenizer.from_folder(minilm_path)


def test_plain_ids_equal_transformers_for_a_batch_and_one_text(both):
    reference, ours = both
    assert ours(TEXTS, **PLAIN_TOKENS)["input_ids"] == reference(TEXTS, **PLAIN_TOKENS)["input_ids"]
    for text in TEXTS:
        assert ours(text, add_special_tokens=True)["input_ids"] == reference(text)["input_ids"]
    assert len(ours(TEXTS[5], add_special_tokens=False)["input_ids"]) == 400


def test_pairs_and_special_token_ids_equal_transformers(both):
    reference, ours = both
    for first, second in zip(TEXTS, reversed(TEXTS)):
        assert ours(first, second)["input_ids"] == reference(first, second)["input_ids"]
    assert (ours.pad_token_id, ours.sep_token_id) == (reference.pad_token_id, reference.sep_token_id)


def test_windows_are_the_same_under_every_strategy(both):
    reference, ours = both
    for strategy in ("head", "head+tail", "chunks"):
        config = WindowConfig(strategy=strategy, max_length=32, stride=4, max_target_tokens=8)
        assert encode_articles(ours, TEXTS, config) == encode_articles(reference, TEXTS, config)
        targets = ["A claim about the budget"] * len(TEXTS)
        assert encode_pairs(ours, targets, TEXTS, config) == encode_pairs(reference, targets, TEXTS, config)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=80), min_size=1, max_size=4))
def test_any_text_gets_transformers_ids(both, texts):
    reference, ours = both
    assert ours(texts, **PLAIN_TOKENS)["input_ids"] == reference(texts, **PLAIN_TOKENS)["input_ids"]


def test_a_saved_model_folder_is_supported_and_matches(tiny_model_dir: Path):
    assert folder_tokenizer_supported(tiny_model_dir)
    reference = AutoTokenizer.from_pretrained(tiny_model_dir)
    ours = FolderTokenizer.from_folder(tiny_model_dir)
    assert ours(TEXTS, **PLAIN_TOKENS)["input_ids"] == reference(TEXTS, **PLAIN_TOKENS)["input_ids"]


def test_folders_it_cannot_read_are_left_to_transformers(minilm_path: Path, tmp_path: Path):
    folder = tmp_path / "tok"
    shutil.copytree(minilm_path, folder)
    assert folder_tokenizer_supported(folder)
    settings_file = folder / TOKENIZER_CONFIG
    fields = json.loads(settings_file.read_text())
    settings_file.write_text(json.dumps({**fields, "tokenizer_class": "XLMRobertaTokenizer"}))
    assert not folder_tokenizer_supported(folder)
    settings_file.write_text(json.dumps(fields))
    (folder / "tokenizer.json").unlink()
    assert not folder_tokenizer_supported(folder)
    settings_file.write_text("{not json")
    assert not folder_tokenizer_supported(folder)


def test_truncation_and_batched_pairs_are_refused(both):
    _, ours = both
    with pytest.raises(ValueError, match="does not truncate"):
        ours(["a text"], truncation=True)
    with pytest.raises(ValueError, match="one at a time"):
        ours(["a", "b"], "c")


def test_a_broken_tokenizer_file_is_a_clear_error(minilm_path: Path, tmp_path: Path):
    folder = Path(shutil.copytree(minilm_path, tmp_path / "tok"))
    (folder / "tokenizer.json").write_text('{"version": ')
    with pytest.raises(ValueError, match=r"tokenizer\.json: .*line 1 column"):
        FolderTokenizer.from_folder(folder)
