"""Tests for inference.model.windowing: article text, token windows, encoding and collation."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer

from inference.model.windowing import (
    FIELD_SEPARATOR,
    WindowConfig,
    article_text,
    collate_windows,
    encode_articles,
    encode_pairs,
    pad_windows,
    pair_special_tokens,
    special_tokens,
    split_tokens,
    token_ids,
    window_assignment_rows,
)

FIELDS = ("title", "content")


@pytest.fixture(scope="module")
def tokenizer(minilm_path: Path):
    return AutoTokenizer.from_pretrained(minilm_path)


def _is_contiguous_slice(window: list[int], tokens: list[int]) -> bool:
    """True when ``window`` equals ``tokens[start : start + len(window)]`` for some start."""
    if not window:
        return False
    return any(tokens[start : start + len(window)] == window for start in range(len(tokens) - len(window) + 1))


# --- article_text ----------------------------------------------------------------------------------


def test_article_text_string_is_stripped():
    assert article_text("  Storm floods the coast \n", FIELDS) == "Storm floods the coast"


def test_article_text_dict_joins_fields_with_blank_line():
    article = {"title": " Rates rise ", "content": "The bank acted.\n", "source": "ignored"}
    assert article_text(article, FIELDS) == "Rates rise\n\nThe bank acted."
    assert FIELD_SEPARATOR == "\n\n"


def test_article_text_follows_text_fields_order_not_dict_order():
    article = OrderedDict([("content", "Body."), ("title", "Head")])
    assert article_text(article, ("title", "content")) == "Head\n\nBody."
    assert article_text(article, ("content", "title")) == "Body.\n\nHead"


def test_article_text_single_field_list():
    assert article_text({"title": "Only", "content": "Not read"}, ["title"]) == "Only"


def test_article_text_none_and_empty_fields_are_skipped():
    assert article_text({"title": None, "content": "Body."}, FIELDS) == "Body."
    assert article_text({"title": "Head", "content": "   "}, FIELDS) == "Head"
    assert article_text({"title": None, "content": None}, FIELDS) == ""


def test_article_text_only_some_fields_present():
    assert article_text({"content": "Body only."}, FIELDS) == "Body only."


def test_article_text_numbers_are_converted_with_str():
    assert article_text({"title": 42, "content": 3.5}, FIELDS) == "42\n\n3.5"
    assert article_text({"title": 0, "content": None}, FIELDS) == "0"


def test_article_text_missing_all_fields_names_them():
    with pytest.raises(ValueError) as excinfo:
        article_text({"headline": "x", "body": "y"}, FIELDS)
    message = str(excinfo.value)
    assert "title" in message
    assert "content" in message
    assert "headline" in message  # also tells which keys the article does have


@pytest.mark.parametrize("article", [42, 3.5, None, ["title", "content"], b"bytes text", ("a", "b")])
def test_article_text_rejects_non_str_non_mapping(article):
    with pytest.raises(TypeError, match="string or a dict"):
        article_text(article, FIELDS)


# --- split_tokens: head and head+tail ------------------------------------------------------------


def test_split_tokens_short_article_is_one_window_unchanged():
    tokens = list(range(5))
    for strategy in ("head", "head+tail", "chunks"):
        assert split_tokens(tokens, WindowConfig(strategy=strategy, max_length=16, stride=2), budget=5) == [tokens]


def test_split_tokens_head():
    tokens = list(range(10))
    assert split_tokens(tokens, WindowConfig(strategy="head", max_length=8, stride=0), budget=4) == [[0, 1, 2, 3]]


def test_split_tokens_head_tail_exact():
    tokens = list(range(20))
    config = WindowConfig(strategy="head+tail", max_length=10, stride=0, head_fraction=0.25)
    # budget 8: round(8 * 0.25) = 2 head tokens, 6 tail tokens
    assert split_tokens(tokens, config, budget=8) == [[0, 1, 14, 15, 16, 17, 18, 19]]


def test_split_tokens_head_tail_half():
    tokens = list(range(100))
    config = WindowConfig(strategy="head+tail", max_length=12, stride=0, head_fraction=0.5)
    assert split_tokens(tokens, config, budget=10) == [[0, 1, 2, 3, 4, 95, 96, 97, 98, 99]]


def test_split_tokens_head_tail_all_head():
    tokens = list(range(30))
    config = WindowConfig(strategy="head+tail", max_length=10, stride=0, head_fraction=1.0)
    assert split_tokens(tokens, config, budget=8) == [list(range(8))]


def test_split_tokens_head_tail_all_tail():
    tokens = list(range(30))
    config = WindowConfig(strategy="head+tail", max_length=10, stride=0, head_fraction=0.0)
    assert split_tokens(tokens, config, budget=8) == [list(range(22, 30))]


# --- split_tokens: chunks ----------------------------------------------------------------------------


def test_split_tokens_chunks_exact():
    tokens = list(range(20))
    config = WindowConfig(strategy="chunks", max_length=12, stride=2, max_windows=8)
    # budget 8, step 6: starts 0, 6, 12
    assert split_tokens(tokens, config, budget=8) == [
        list(range(0, 8)),
        list(range(6, 14)),
        list(range(12, 20)),
    ]


@pytest.mark.parametrize("n", [21, 37, 50, 64, 99])
@pytest.mark.parametrize("stride", [0, 1, 3, 5])
def test_split_tokens_chunks_overlap_equals_stride_and_covers_all(n, stride):
    tokens = list(range(n))
    budget = 10
    config = WindowConfig(strategy="chunks", max_length=12, stride=stride, max_windows=100)
    windows = split_tokens(tokens, config, budget=budget)
    assert len(windows) > 1
    for window in windows:
        assert 0 < len(window) <= budget
        assert _is_contiguous_slice(window, tokens)
    for first, second in itertools.pairwise(windows):
        overlap = set(first) & set(second)
        assert len(overlap) == stride
        assert second[0] == first[-1] + 1 - stride
    assert windows[0][0] == 0
    assert windows[-1][-1] == n - 1
    assert sorted({token for window in windows for token in window}) == tokens


def test_split_tokens_chunks_cap_keeps_first_and_last_window():
    tokens = list(range(200))
    budget = 10
    uncapped = split_tokens(tokens, WindowConfig(strategy="chunks", max_length=12, stride=2, max_windows=1000), budget)
    capped = split_tokens(tokens, WindowConfig(strategy="chunks", max_length=12, stride=2, max_windows=4), budget)
    assert len(uncapped) > 4
    assert len(capped) == 4
    assert capped[0] == uncapped[0] == list(range(10))
    assert capped[-1] == uncapped[-1]
    assert capped[-1][-1] == 199
    assert all(window in uncapped for window in capped)
    starts = [window[0] for window in capped]
    assert starts == sorted(set(starts))


def test_split_tokens_chunks_max_windows_one_keeps_first():
    tokens = list(range(50))
    windows = split_tokens(tokens, WindowConfig(strategy="chunks", max_length=12, stride=2, max_windows=1), 10)
    assert windows == [list(range(10))]


def test_split_tokens_does_not_mutate_input():
    tokens = list(range(40))
    split_tokens(tokens, WindowConfig(strategy="chunks", max_length=12, stride=2), 10)
    split_tokens(tokens, WindowConfig(strategy="head+tail", max_length=12, stride=0), 10)
    assert tokens == list(range(40))


# --- split_tokens: properties --------------------------------------------------------------------------


@st.composite
def _configs(draw, strategy=None):
    strategy = strategy or draw(st.sampled_from(["head", "head+tail", "chunks"]))
    max_length = draw(st.integers(min_value=8, max_value=64))
    stride = draw(st.integers(min_value=0, max_value=max_length // 2 - 1))
    max_windows = draw(st.integers(min_value=1, max_value=12))
    head_fraction = draw(st.floats(min_value=0.0, max_value=1.0, allow_nan=False))
    config = WindowConfig(
        strategy=strategy, max_length=max_length, stride=stride, max_windows=max_windows, head_fraction=head_fraction
    )
    specials = draw(st.integers(min_value=0, max_value=2))
    budget = max_length - specials
    return config, budget


@settings(max_examples=200, deadline=None)
@given(config_budget=_configs(), n=st.integers(min_value=1, max_value=600))
def test_property_windows_nonempty_within_budget_and_capped(config_budget, n):
    config, budget = config_budget
    tokens = list(range(n))
    windows = split_tokens(tokens, config, budget)
    assert 1 <= len(windows) <= config.max_windows
    for window in windows:
        assert 0 < len(window) <= budget
        assert set(window) <= set(tokens)
    if config.strategy != "chunks":
        assert len(windows) == 1
        assert len(windows[0]) == min(n, budget)


@settings(max_examples=200, deadline=None)
@given(config_budget=_configs(strategy="head"), n=st.integers(min_value=1, max_value=600))
def test_property_head_is_prefix(config_budget, n):
    config, budget = config_budget
    tokens = list(range(n))
    [window] = split_tokens(tokens, config, budget)
    assert window == tokens[: min(n, budget)]
    assert _is_contiguous_slice(window, tokens)


@settings(max_examples=200, deadline=None)
@given(config_budget=_configs(strategy="head+tail"), n=st.integers(min_value=1, max_value=600))
def test_property_head_tail_is_prefix_plus_suffix(config_budget, n):
    config, budget = config_budget
    tokens = list(range(n))
    [window] = split_tokens(tokens, config, budget)
    assert len(window) == min(n, budget)
    assert window == sorted(set(window))  # order kept, no token twice
    if n > budget:
        head = round(budget * config.head_fraction)
        assert window[:head] == tokens[:head]
        assert window[head:] == tokens[n - (budget - head) :]


@settings(max_examples=200, deadline=None)
@given(config_budget=_configs(strategy="chunks"), n=st.integers(min_value=1, max_value=600))
def test_property_chunks_are_ordered_contiguous_slices(config_budget, n):
    config, budget = config_budget
    tokens = list(range(n))
    windows = split_tokens(tokens, config, budget)
    assert len(windows) <= config.max_windows
    for window in windows:
        assert _is_contiguous_slice(window, tokens)
        assert 0 < len(window) <= budget
    starts = [window[0] for window in windows]
    assert starts == sorted(set(starts))
    assert windows[0][0] == 0
    if config.max_windows >= 2 or n <= budget:
        assert windows[-1][-1] == n - 1  # the end of the article is always read


@settings(max_examples=200, deadline=None)
@given(config_budget=_configs(strategy="chunks"), n=st.integers(min_value=1, max_value=600))
def test_property_chunks_cover_every_token_when_uncapped(config_budget, n):
    config, budget = config_budget
    uncapped = WindowConfig(strategy="chunks", max_length=config.max_length, stride=config.stride, max_windows=10_000)
    tokens = list(range(n))
    windows = split_tokens(tokens, uncapped, budget)
    assert sorted({token for window in windows for token in window}) == tokens
    for first, second in itertools.pairwise(windows):
        assert len(set(first) & set(second)) == config.stride
    if len(windows) <= config.max_windows:
        assert split_tokens(tokens, config, budget) == windows


# --- WindowConfig -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"strategy": "tail"}, "strategy"),
        ({"strategy": "HEAD"}, "strategy"),
        ({"max_length": 7}, "max_length"),
        ({"max_length": 0}, "max_length"),
        ({"strategy": "chunks", "max_length": 16, "stride": 8}, "stride"),
        ({"strategy": "chunks", "max_length": 16, "stride": -1}, "stride"),
        ({"max_windows": 0}, "max_windows"),
        ({"head_fraction": -0.1}, "head_fraction"),
        ({"head_fraction": 1.5}, "head_fraction"),
        ({"max_target_tokens": 0}, "max_target_tokens"),
    ],
)
def test_window_config_rejects_invalid_values(kwargs, match):
    with pytest.raises(ValueError, match=match):
        WindowConfig(**kwargs)


@pytest.mark.parametrize("strategy", ["head", "head+tail"])
def test_window_config_stride_default_does_not_block_short_head_windows(strategy):
    config = WindowConfig(strategy=strategy, max_length=32)
    tokens = list(range(40))
    assert len(split_tokens(tokens, config, budget=30)[0]) == 30


def test_window_config_accepts_edge_values_and_round_trips():
    config = WindowConfig(
        strategy="chunks", max_length=8, stride=3, max_windows=1, head_fraction=1.0, max_target_tokens=1
    )
    assert config.to_dict() == {
        "strategy": "chunks",
        "max_length": 8,
        "stride": 3,
        "max_windows": 1,
        "head_fraction": 1.0,
        "max_target_tokens": 1,
    }
    assert WindowConfig(**config.to_dict()) == config


# --- encode_articles with the real MiniLM tokenizer -----------------------------------------------------


@pytest.mark.parametrize("strategy", ["head", "head+tail", "chunks"])
def test_encode_articles_windows_have_special_tokens_and_fit(tokenizer, strategy):
    config = WindowConfig(strategy=strategy, max_length=32, stride=4, max_windows=6)
    texts = ["Rates rise.", "The central bank raised interest rates again " * 20, "Short", ""]
    encoded = encode_articles(tokenizer, texts, config)
    assert len(encoded) == len(texts)
    for windows in encoded:
        assert len(windows) >= 1
        for window in windows:
            assert window[0] == tokenizer.cls_token_id
            assert window[-1] == tokenizer.sep_token_id
            assert len(window) <= 32
            assert tokenizer.cls_token_id not in window[1:-1]
            assert tokenizer.sep_token_id not in window[1:-1]


def test_encode_articles_short_text_matches_tokenizer(tokenizer):
    config = WindowConfig(strategy="chunks", max_length=32, stride=4)
    [[window]] = encode_articles(tokenizer, ["Rates rise."], config)
    assert window == tokenizer("Rates rise.")["input_ids"]


def test_encode_articles_long_text_gives_several_chunks(tokenizer):
    words = " ".join(f"word{i % 50} market" for i in range(2500))  # 5,000 words
    assert len(words.split()) == 5000
    config = WindowConfig(strategy="chunks", max_length=64, stride=8, max_windows=8)
    [windows] = encode_articles(tokenizer, [words], config)
    assert len(windows) == 8
    assert all(len(window) <= 64 for window in windows)
    body = tokenizer(words, add_special_tokens=False, verbose=False)["input_ids"]
    assert len(body) > 8 * 62
    assert windows[0][1:-1] == body[:62]
    last = windows[-1][1:-1]
    assert last and last == body[len(body) - len(last) :]


def test_encode_articles_head_long_text_is_one_full_window(tokenizer):
    words = "inflation " * 5000
    [windows] = encode_articles(tokenizer, [words], WindowConfig(strategy="head", max_length=40, stride=0))
    assert len(windows) == 1
    assert len(windows[0]) == 40


def test_encode_articles_empty_text_is_only_special_tokens(tokenizer):
    config = WindowConfig(strategy="chunks", max_length=32, stride=4)
    assert encode_articles(tokenizer, [""], config) == [[[tokenizer.cls_token_id, tokenizer.sep_token_id]]]


# --- collate_windows -----------------------------------------------------------------------------------


def test_collate_windows_shapes_padding_mask_and_owners():
    articles = [[[101, 5, 6, 102]], [[101, 7, 102], [101, 8, 9, 10, 11, 102]], [[101, 102]]]
    batch = collate_windows(articles, pad_token_id=0)
    assert set(batch) == {"input_ids", "attention_mask", "window_to_article"}
    assert batch["input_ids"].shape == (4, 6)
    assert batch["attention_mask"].shape == (4, 6)
    assert batch["input_ids"].dtype == torch.long
    assert batch["attention_mask"].dtype == torch.long
    assert batch["input_ids"].tolist() == [
        [101, 5, 6, 102, 0, 0],
        [101, 7, 102, 0, 0, 0],
        [101, 8, 9, 10, 11, 102],
        [101, 102, 0, 0, 0, 0],
    ]
    assert batch["attention_mask"].tolist() == [
        [1, 1, 1, 1, 0, 0],
        [1, 1, 1, 0, 0, 0],
        [1, 1, 1, 1, 1, 1],
        [1, 1, 0, 0, 0, 0],
    ]
    assert batch["window_to_article"].tolist() == [0, 1, 1, 2]


def test_collate_windows_uses_given_pad_id():
    batch = collate_windows([[[1, 2, 3]], [[4]]], pad_token_id=-7)
    assert batch["input_ids"].tolist() == [[1, 2, 3], [4, -7, -7]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["window_to_article"].tolist() == [0, 1]


def test_collate_windows_of_encoded_articles(tokenizer):
    config = WindowConfig(strategy="chunks", max_length=16, stride=2, max_windows=5)
    texts = ["one two three", "market " * 60]
    encoded = encode_articles(tokenizer, texts, config)
    batch = collate_windows(encoded, tokenizer.pad_token_id)
    total = sum(len(windows) for windows in encoded)
    assert batch["input_ids"].shape == (total, 16)
    assert batch["attention_mask"].sum(1).tolist() == [len(w) for windows in encoded for w in windows]
    assert batch["window_to_article"].tolist() == [0] + [1] * len(encoded[1])


def test_pair_special_tokens_are_bert_cls_sep_sep(tokenizer):
    assert pair_special_tokens(tokenizer) == (
        [tokenizer.cls_token_id],
        [tokenizer.sep_token_id],
        [tokenizer.sep_token_id],
    )


@pytest.mark.parametrize("strategy", ["head", "head+tail", "chunks"])
def test_every_pair_window_holds_the_whole_target_then_part_of_the_text(tokenizer, strategy: str):
    config = WindowConfig(strategy=strategy, max_length=40, stride=4, max_windows=5)
    target = "Spider burrowed through a tourist's stomach"
    text = " ".join(f"word{i}" for i in range(120))
    [windows] = encode_pairs(tokenizer, [target], [text], config)
    target_ids = tokenizer(target, add_special_tokens=False)["input_ids"]
    text_ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    assert len(windows) == (1 if strategy != "chunks" else 5)
    parts = []
    for window in windows:
        assert len(window) <= 40
        assert window[: len(target_ids) + 2] == [cls, *target_ids, sep] and window[-1] == sep
        parts.append(window[len(target_ids) + 2 : -1])
    budget = 40 - 3 - len(target_ids)
    assert parts == split_tokens(text_ids, config, budget)


def test_long_targets_are_cut_and_must_leave_room(tokenizer):
    config = WindowConfig(strategy="head", max_length=32, max_target_tokens=3)
    [windows] = encode_pairs(tokenizer, ["a b c d e f g h i j"], ["text"], config)
    assert tokenizer.decode(windows[0]) == "[CLS] a b c [SEP] text [SEP]"
    with pytest.raises(ValueError, match=r"leaves 0 of the window's 32 for the text; lower max_target_tokens \(29\)"):
        long_target = WindowConfig(strategy="head", max_length=32, max_target_tokens=29)
        encode_pairs(tokenizer, ["x " * 40], ["text"], long_target)
    with pytest.raises(ValueError, match="give one target per text"):
        encode_pairs(tokenizer, ["a"], ["b", "c"], config)


def test_token_type_ids_mark_the_second_segment_only(tokenizer):
    config = WindowConfig(strategy="head", max_length=32)
    pair = encode_pairs(tokenizer, ["claim"], ["the body text"], config)
    single = encode_articles(tokenizer, ["just one longer text here"], config)
    batch = collate_windows([pair[0], single[0]], tokenizer.pad_token_id, tokenizer.sep_token_id)
    expected = tokenizer("claim", "the body text")["token_type_ids"]
    assert batch["token_type_ids"][0, : len(expected)].tolist() == expected
    assert batch["token_type_ids"][1].sum() == 0
    assert (batch["token_type_ids"] * (1 - batch["attention_mask"])).sum() == 0
    assert "token_type_ids" not in collate_windows([pair[0]], tokenizer.pad_token_id)


def test_padded_windows_are_int64_numpy_arrays_and_the_tensors_hold_the_same(tokenizer):
    config = WindowConfig(strategy="chunks", max_length=16, stride=4, max_windows=3)
    pairs = encode_pairs(tokenizer, ["claim", "another claim"], ["the body text " * 6, "short"], config)
    padded = pad_windows(pairs, tokenizer.pad_token_id, tokenizer.sep_token_id)
    tensors = collate_windows(pairs, tokenizer.pad_token_id, tokenizer.sep_token_id)
    assert set(padded) == set(tensors) == {"input_ids", "attention_mask", "window_to_article", "token_type_ids"}
    for key, array in padded.items():
        assert isinstance(array, np.ndarray) and array.dtype == np.int64
        assert tensors[key].dtype == torch.long and tensors[key].tolist() == array.tolist()


def test_padding_reads_a_generator_of_articles_and_refuses_no_windows():
    articles = [[[101, 5, 102]], [[101, 6, 7, 102], [101, 8, 102]]]
    from_generator = pad_windows((article for article in articles), pad_token_id=0)
    assert from_generator["window_to_article"].tolist() == [0, 1, 1]
    assert from_generator["input_ids"].tolist() == pad_windows(articles, pad_token_id=0)["input_ids"].tolist()
    with pytest.raises(ValueError, match="no windows to pad"):
        pad_windows([], pad_token_id=0)


def test_the_numpy_assignment_is_the_models():
    from inference.model.heads import window_assignment

    owners = np.array([0, 0, 1, 2, 2, 2])
    rows = window_assignment_rows(owners)
    assert rows.dtype == np.float32 and rows.sum(axis=1).tolist() == [2, 1, 3]
    assert rows.tolist() == window_assignment(torch.from_numpy(owners)).tolist()


WORDS = [
    "Senate",
    "passes",
    "the",
    "budget",
    "état",
    "naïve",
    "co-operation",
    "U.S.",
    "$1.5bn",
    "Ünïcödé",
    "東京",
    "don't",
    "well—known",
    "(AP)",
    "supercalifragilisticexpialidocious",
    "\u00a0",
    "\t",
    "\n\n",
    "ok.",
]


def _whole_text_windows(tokenizer, texts, config):
    """The windows cut from every token of each text (no shortcut), special tokens added."""
    prefix, suffix = special_tokens(tokenizer)
    budget = config.max_length - len(prefix) - len(suffix)
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    return [[prefix + window + suffix for window in split_tokens(t, config, budget)] for t in ids]


@settings(max_examples=25, deadline=None)
@given(
    words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=2500),
    strategy=st.sampled_from(["head", "head+tail", "chunks"]),
    max_length=st.sampled_from([16, 64]),
)
def test_tokenizing_only_the_ends_gives_the_whole_texts_windows(tokenizer, words, strategy, max_length):
    # chunks of one window read the first: tokenized as head is
    config = WindowConfig(strategy=strategy, max_length=max_length, head_fraction=0.3, max_windows=1, stride=4)
    texts = [" ".join(words), "short one", "".join(words)]  # the last has few spaces to cut at
    assert encode_articles(tokenizer, texts, config) == _whole_text_windows(tokenizer, texts, config)


def test_a_long_text_is_tokenized_only_at_its_ends(tokenizer):
    config = WindowConfig(strategy="head+tail", max_length=32)
    text = " ".join(f"word{i}" for i in range(20_000))
    ids = token_ids(tokenizer, [text], config)[0]
    whole = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert 2 * 32 <= len(ids) < len(whole) / 10
    assert ids[:32] == whole[:32] and ids[-32:] == whole[-32:]


def test_a_head_window_tokenizes_only_a_long_texts_start(tokenizer):
    text = " ".join(f"word{i}" for i in range(20_000))
    whole = tokenizer(text, add_special_tokens=False)["input_ids"]
    for strategy in ("head", "chunks"):  # chunks of one window read the first, as head does
        config = WindowConfig(strategy=strategy, max_length=32, stride=8, max_windows=1)
        ids = token_ids(tokenizer, [text], config)
        assert 32 <= len(ids[0]) < len(whole) / 20 and ids[0] == whole[: len(ids[0])]


def test_chunks_of_several_windows_tokenize_the_whole_text_and_of_one_only_its_ends(tokenizer):
    text = " ".join(f"word{i}" for i in range(3_000))
    whole = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert token_ids(tokenizer, [text], WindowConfig(strategy="chunks", max_length=32, stride=8))[0] == whole
    one = token_ids(tokenizer, [text], WindowConfig(strategy="chunks", max_length=32, stride=8, max_windows=1))[0]
    assert one == whole[: len(one)] and len(one) < len(whole) / 10
