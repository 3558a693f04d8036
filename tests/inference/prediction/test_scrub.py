"""Outlet scrubbing: names and boilerplate go, the reporting stays, and the model applies it at prediction."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from testkit.articles import make_rows
from testkit.tiny import tiny_config

from inference import Predictor
from inference.prediction import scrub as scrub_module
from inference.prediction.scrub import OutletScrubber, name_variants
from training.data import load_splits, scrub_splits
from training.fitting.recipe import train

NAMES = ["CNN (Web News)", "Politico", "Fox Online News", "Fox News", "Washington Times", "The Hill", "Reason"]


@pytest.fixture(scope="module")
def scrub() -> OutletScrubber:
    return OutletScrubber(NAMES)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CNN (Web News)", {"CNN (Web News)", "CNN"}),
        ("New York Times - News", {"New York Times - News", "New York Times"}),
        ("Fox Online News", {"Fox Online News", "Fox"}),
        ("The Washington Times", {"The Washington Times", "Washington Times"}),
        ("The Hill", {"The Hill"}),  # never "Hill": Capitol Hill must survive
    ],
)
def test_name_variants(name, expected):
    assert name_variants(name) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The senator spoke to CNN’s reporter.", "The senator spoke to reporter."),
        ("POLITICO obtained the memo.", "obtained the memo."),
        ("Fox News said no, The Hill reported.", "said no, reported."),
        ("He met them on Capitol Hill for that reason.", "He met them on Capitol Hill for that reason."),
        ("Reason magazine disagreed.", "magazine disagreed."),
        ("WASHINGTON (AP) — The vote failed.", "WASHINGTON — The vote failed."),
        ("By Jane Q. Smith\nThe vote failed.", "The vote failed."),
        ("The vote failed. Maggie Haberman contributed to this report.", "The vote failed."),
        ("The vote failed. Sign up for our Daily Newsletter!", "The vote failed."),
        ("Rates rose. Copyright © 2019 The Washington Times, LLC", "Rates rose."),
        ("Rates rose. Follow us on Twitter for updates.", "Rates rose."),
        ("Image copyright Reuters Image caption Troops moved.\n\nTalks resumed.", "Talks resumed."),
    ],
)
def test_scrubber_removes_outlet_traces(scrub, text, expected):
    assert scrub(text) == expected


def test_scrubber_without_names_still_removes_boilerplate():
    assert OutletScrubber()("Deal signed. All rights reserved.") == "Deal signed."


def test_scrubber_keeps_plain_reporting_untouched(scrub):
    text = "Lawmakers passed the bill 52-48.\n\nThe governor is expected to sign it on Friday."
    assert scrub(text) == text


def test_scrub_splits_uses_training_outlets_only(tmp_path, tiny_encoder_dir):
    rows = make_rows(per_cell=3, validation_every=3)
    for row in rows:
        if row["split"] == "validation" and row["topic"] == "health":
            row["source"] = "Holdout Gazette"  # an outlet training never sees
        row["content"] = f"{row['source']} reports: {row['content']}"
    config = tiny_config(tmp_path, tiny_encoder_dir, ["data.scrub_column=source"], rows=rows)
    splits = load_splits(config)
    scrubbed, names = scrub_splits(config, splits)
    assert names == sorted(set(splits["train"]["source"]))
    assert "Holdout Gazette" not in names
    for text in scrubbed["train"]["text"]:
        assert not any(name in text for name in names)
    kept = [text for text in scrubbed["validation"]["text"] if "Holdout Gazette" in text]
    assert len(kept) == 3  # unseen outlets are not known at prediction time either, so they stay


def test_scrub_names_are_saved_and_applied_by_the_predictor(tmp_path, tiny_encoder_dir):
    config = tiny_config(tmp_path, tiny_encoder_dir, ["data.scrub_column=source", "training.epochs=1"])
    model_dir = train(config) / "model"
    saved = json.loads((model_dir / "config.json").read_text())["scrub_names"]
    assert saved == sorted({row["source"] for row in make_rows() if row["split"] == "train"})
    predictor = Predictor.from_pretrained(model_dir)
    article = "inflation market wages bank interest rates"
    with_name = f"{saved[0]} says {article}. Sign up for our newsletter."
    plain = f"says {article}."
    assert predictor.predict_proba(with_name)["topic"].tolist() == predictor.predict_proba(plain)["topic"].tolist()


def _scrub_plainly(names: list[str], text: str) -> str:
    """The scrubber's rules read plainly: each line, then each sentence, searched in turn; the names one flat regex."""
    lines = []
    for line in text.split("\n"):
        if scrub_module.BYLINE.match(line):
            continue
        sentences = scrub_module.SENTENCE_END.split(line)
        lines.append(" ".join(s for s in sentences if not scrub_module.BOILERPLATE.search(s)))
    text = scrub_module.WIRE_DATELINE.sub("", "\n".join(lines))
    variants = {v for name in names for v in name_variants(name)}
    longest_first = sorted(variants | {v.upper() for v in variants}, key=len, reverse=True)
    flat = "|".join(re.escape(variant) for variant in longest_first)
    text = re.sub(rf"(?<!\w)(?:[Tt]he\s+)?(?:{flat})(?:['’]s)?(?!\w)", "", text)
    text = re.sub(r"[ \t]{2,}", " ", text)
    text = re.sub(r" +([.,;:!?])", r"\1", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


FRAGMENTS = [
    "The vote failed.",
    "Sign up for our newsletter!",
    "SIGN-UP now.",
    "Signing-up takes a minute.",
    "Follow us on Twitter.",
    "Like them on Facebook!",
    "Follow @jane on X.",
    "Reuters contributed to this report.",
    "Copyright 2024 The Daily Planet.",
    "© 2023 all rights reserved",
    "Photo credit: AP.",
    "Image caption Crowds gathered.",
    "Credit card rates rose.",
    "This story originally appeared in Time.",
    "This article was published on Monday.",
    "The Daily Planet reported it.",
    "the  Daily Planet’s editors agreed.",
    "THE DAILY PLANET (Web News) wrote.",
    "OverTime rules, Timeless, xTIMES and TIME's cover.",
    "Sıgn up today.",  # a dotless i, which IGNORECASE takes for an i
    "ſign up here.",  # a long s, which IGNORECASE and casefold take for an s
    "İmage credit: a crowd.",  # a dotted capital I, which IGNORECASE takes for an i and casefold for i + a dot
    "Click HERE to read more?",
    "Lawmakers liked the plan.",
    "By John Smith",
    "WASHINGTON (AP) — Rates rose.",
    "LONDON (Reuters)- Talks resumed .",
]
GAPS = [" ", "  ", "\n", "\n\n", "\n\n\n", "\t", "\r\n", "\u00a0", ""]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(FRAGMENTS), st.sampled_from(GAPS)), max_size=14))
def test_the_scrubber_gives_what_its_rules_read_plainly_give(pieces):
    names = ["The Daily Planet (Web News)", "Time", "Times"]
    text = "".join(fragment + gap for fragment, gap in pieces)
    assert OutletScrubber(names)(text) == _scrub_plainly(names, text)


@pytest.mark.parametrize("boilerplate", ["Sıgn up today.", "ſign up here.", "İmage credit: AP."])
def test_the_keyword_filter_still_drops_boilerplate_written_with_unusual_letters(boilerplate):
    assert OutletScrubber()(f"Rates rose. {boilerplate} Markets fell.") == "Rates rose. Markets fell."
