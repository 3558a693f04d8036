"""training.choose_on: groups: the probe's penalties, TF-IDF shares and temperatures chosen on out-of-fold scores of
the training rows, each fold's models fitted without the fold's groups (outlets)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from testkit.articles import make_rows
from testkit.tiny import tiny_config

from training.config import ConfigError
from training.data import DataError
from training.fitting.recipe import train
from training.heads.group_cv import split_by_group
from training.heads.probe import L2_GRID, fit_linear_head, out_of_fold_heads


def test_no_group_is_in_two_folds_and_every_row_is_held_out_once():
    groups = [f"outlet-{i % 7}" for i in range(40)]
    folds = split_by_group(groups, 3, "source")
    held = np.concatenate([rows for _, rows in folds])
    assert sorted(held) == list(range(40))
    for fit_rows, rows in folds:
        assert not {groups[i] for i in fit_rows} & {groups[i] for i in rows}


@pytest.mark.parametrize(
    ("groups", "words"),
    [
        (["a", "b", None, "c"], "1 training rows have no 'source' (the first is row 3)"),
        (["a", "b", "a"], "2 'source' groups"),
    ],
)
def test_rows_without_a_group_or_too_few_groups_are_refused(groups, words):
    with pytest.raises(DataError, match=words.replace("(", r"\(").replace(")", r"\)")):
        split_by_group(groups, 3, "source")


def test_out_of_fold_logits_come_from_heads_that_never_saw_the_fold():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(60, 5)).astype(np.float32)
    labels = (features[:, 0] > 0).astype(int)
    labels[7] = -100  # unlabelled rows get logits but no say in the score
    folds = split_by_group([i % 6 for i in range(60)], 3, "source")
    scores, logits = out_of_fold_heads(features, labels, ["no", "yes"], "accuracy", folds, (1e-3,))
    fit_rows, held = folds[1]
    weight, bias = fit_linear_head(features[fit_rows], labels[fit_rows], 2, 1e-3)
    np.testing.assert_allclose(logits[1e-3][held], features[held] @ weight.T + bias, rtol=1e-4, atol=1e-4)
    labelled = labels != -100
    assert scores[1e-3] == np.mean(logits[1e-3][labelled].argmax(1) == labels[labelled])


def rows_of_many_outlets() -> list[dict]:
    rows = make_rows()
    for index, row in enumerate(rows):
        row["source"] = f"outlet-{index % 9}"
    return rows


def test_a_fused_probe_chooses_its_penalty_share_and_temperature_over_outlet_folds(tmp_path, tiny_encoder_dir):
    overrides = [
        "training.mode=probe",
        "training.fuse_tfidf=true",
        "training.choose_on=groups",
        "training.group_folds=3",
    ]
    run_dir = train(tiny_config(tmp_path, tiny_encoder_dir, overrides, rows=rows_of_many_outlets()))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for task, head in metrics["train"]["probe"]["heads"].items():
        assert head["chosen_by"] == "groups" and len(head["scores"]) == len(L2_GRID), task
        calibration = metrics["calibration"][task]
        assert calibration["temperature_fitted"] == "fitted on out-of-fold training rows"
        assert 0 <= calibration["tfidf_weight"] <= 1
    assert set(metrics["splits"]) == {"validation"}  # validation is still scored, and chose nothing


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (["training.mode=finetune"], "training.choose_on: groups needs training.mode: probe"),
        (["training.mode=probe", "data.group_column=null"], "training.choose_on: groups needs data.group_column"),
    ],
)
def test_choosing_over_groups_needs_a_probe_and_a_group_column(tmp_path, tiny_encoder_dir, overrides, words):
    with pytest.raises(ConfigError, match=words):
        tiny_config(tmp_path, tiny_encoder_dir, ["training.choose_on=groups", *overrides])
