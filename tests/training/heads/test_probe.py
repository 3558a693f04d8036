"""training.heads.probe and training.heads.feature_cache: heads fitted on the frozen encoder's cached article
vectors, saved as an ordinary model folder, and fine-tuning that starts from them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from testkit.articles import make_rows
from testkit.same import FP32_TOLERANCE
from testkit.tiny import tiny_classifier, tiny_config

from inference import Predictor
from training.config import load_config
from training.fitting.recipe import train
from training.heads.feature_cache import FeatureCache, cache_key
from training.heads.probe import L2_GRID, fit_linear_head, fit_probe

ROOT = Path(__file__).resolve().parents[3]


def separable(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centres = np.eye(3, 8, dtype=np.float32) * 3
    return (centres[labels] + rng.normal(0, 0.5, (n, 8))).astype(np.float32), labels


def test_a_linear_head_separates_separable_vectors_and_ignores_unlabelled_rows():
    x, y = separable()
    y_missing = y.copy()
    y_missing[:10] = -100
    weight, bias = fit_linear_head(x, y_missing, 3, l2=1e-3)
    assert weight.shape == (3, 8) and bias.shape == (3,)
    assert ((x @ weight.T + bias).argmax(1) == y).mean() >= 0.95


def test_a_larger_penalty_gives_smaller_weights():
    x, y = separable()
    small, _ = fit_linear_head(x, y, 3, l2=1e-4)
    large, _ = fit_linear_head(x, y, 3, l2=1.0)
    assert np.linalg.norm(large) < np.linalg.norm(small)


def test_class_weights_move_the_head_toward_the_weighted_class():
    x, y = separable(seed=1)
    x[:, :3] += np.random.default_rng(2).normal(0, 3, (len(x), 3)).astype(np.float32)  # overlapping classes
    plain_w, plain_b = fit_linear_head(x, y, 3, l2=1e-3)
    heavy_w, heavy_b = fit_linear_head(x, y, 3, l2=1e-3, class_weights=torch.tensor([10.0, 1.0, 1.0]))
    plain, heavy = (x @ plain_w.T + plain_b).argmax(1), (x @ heavy_w.T + heavy_b).argmax(1)
    assert (heavy == 0).sum() > (plain == 0).sum()


def test_the_penalty_is_chosen_on_validation_or_fixed_by_the_config(tmp_path, tiny_encoder_dir):
    x, y = separable(90)
    features = {"train": x[:60], "validation": x[60:]}
    labels = {"train": {"topic": list(y[:60])}, "validation": {"topic": list(y[60:])}}
    config = tiny_config(tmp_path, tiny_encoder_dir)
    heads = fit_probe(features, labels, {"topic": ["a", "b", "c"]}, config, {})
    assert heads["topic"].l2 in L2_GRID and set(heads["topic"].scores) == {f"{v:g}" for v in L2_GRID}
    assert heads["topic"].scores[f"{heads['topic'].l2:g}"] == max(heads["topic"].scores.values())
    assert heads["topic"].chosen_by == "validation"
    config.training.probe_l2 = 0.5
    fixed = fit_probe(features, labels, {"topic": ["a", "b", "c"]}, config, {})
    assert (fixed["topic"].l2, fixed["topic"].scores, fixed["topic"].chosen_by) == (0.5, {}, "config")


def test_without_validation_the_penalty_is_cross_validated_on_training(tmp_path, tiny_encoder_dir, monkeypatch):
    import training.heads.probe as probe

    x, y = separable(60)
    config = tiny_config(tmp_path, tiny_encoder_dir)
    seen = []
    real = probe.fit_linear_head
    monkeypatch.setattr(probe, "fit_linear_head", lambda f, *a, **k: seen.append(len(f)) or real(f, *a, **k))
    heads = fit_probe({"train": x}, {"train": {"topic": list(y)}}, {"topic": ["a", "b", "c"]}, config, {})
    assert heads["topic"].chosen_by == "cross-validation" and set(heads["topic"].scores) == {f"{v:g}" for v in L2_GRID}
    assert heads["topic"].scores[f"{heads['topic'].l2:g}"] == max(heads["topic"].scores.values())
    assert seen.count(48) == 5 * len(L2_GRID)  # 5 folds of 60 rows for each penalty, then one whole fit
    one_of_a_class = y.copy()
    one_of_a_class[np.flatnonzero(y == 2)[1:]] = 1
    lonely = fit_probe({"train": x}, {"train": {"topic": list(one_of_a_class)}}, {"topic": ["a", "b", "c"]}, config, {})
    assert lonely["topic"].chosen_by == "default" and lonely["topic"].l2 == L2_GRID[len(L2_GRID) // 2]


def cache_for(root: Path, model, bf16: bool = False) -> FeatureCache:
    return FeatureCache(root, model, sep_token_id=None, pad_token_id=0, bf16=bf16)


ARTICLES = [[[5, 6, 7, 8]], [[9, 10], [11, 12, 13]], [[14, 15, 16]] * 3]


def test_cached_vectors_are_the_models_pooled_article_vectors_and_are_reused(tmp_path):
    model = tiny_classifier({"topic": ["a", "b"]})
    cache = cache_for(tmp_path / "cache", model)
    vectors = cache.vectors(ARTICLES, "train")
    for index, article in enumerate(ARTICLES):
        ids = [torch.tensor(window) for window in article]
        batch = torch.nn.utils.rnn.pad_sequence(ids, batch_first=True)
        with torch.no_grad():
            windows = model.encode_windows(batch, (batch != 0).long())
        np.testing.assert_allclose(vectors[index], windows.mean(0).numpy(), atol=FP32_TOLERANCE)
    assert [p.suffix for p in (tmp_path / "cache").iterdir()] == [".npy"]  # no partial folder left
    stored = next((tmp_path / "cache").iterdir())
    before = stored.stat().st_mtime_ns
    again = cache_for(tmp_path / "cache", model).vectors(ARTICLES, "train")
    assert stored.stat().st_mtime_ns == before and np.array_equal(again, vectors)


def test_any_change_of_weights_windows_pooling_or_precision_is_another_key():
    model = tiny_classifier({"topic": ["a", "b"]})
    sha = cache_for(Path("unused"), model).encoder_sha
    key = cache_key(model, ARTICLES, False, sha)
    other_windows = [ARTICLES[0], [[9, 10, 11], [12, 13]], ARTICLES[2]]  # same tokens, windows cut elsewhere
    assert cache_key(model, other_windows, False, sha) != key
    assert cache_key(model, ARTICLES, True, sha) != key
    with torch.no_grad():
        model.encoder.embeddings.word_embeddings.weight[5, 0] += 1
    assert cache_for(Path("unused"), model).encoder_sha != sha
    model.config.window_pooling = "max"
    assert cache_key(model, ARTICLES, False, sha) != key


class Killed(Exception):
    """Stands for the process being killed while it embeds."""


def test_a_killed_embedding_resumes_from_its_finished_parts(tmp_path, monkeypatch):
    import training.heads.feature_cache as feature_cache

    monkeypatch.setattr(feature_cache, "PART_ARTICLES", 1)
    model = tiny_classifier({"topic": ["a", "b"]})
    reference = cache_for(tmp_path / "reference", model).vectors(ARTICLES, "train")
    cache = cache_for(tmp_path / "cache", model)
    calls = []
    real = cache._embed_part

    def dies_on_the_second_part(articles):
        calls.append(len(articles))
        if len(calls) == 2 and not resuming:
            raise Killed
        return real(articles)

    resuming = False

    monkeypatch.setattr(cache, "_embed_part", dies_on_the_second_part)
    with pytest.raises(Killed):
        cache.vectors(ARTICLES, "train")
    assert len(list((tmp_path / "cache").glob("*.partial/part-*.npy"))) == 1
    calls.clear()
    resuming = True
    resumed = cache.vectors(ARTICLES, "train")
    assert len(calls) == 2  # the two parts that were not finished
    np.testing.assert_array_equal(resumed, reference)  # one path, run the same way


def test_two_processes_embed_each_part_once_and_assemble_one_processs_vectors(tmp_path, monkeypatch):
    import training.heads.feature_cache as feature_cache

    monkeypatch.setattr(feature_cache, "PART_ARTICLES", 1)
    model = tiny_classifier({"topic": ["a", "b"]})
    reference = cache_for(tmp_path / "reference", model).vectors(ARTICLES, "train")
    ranks = [FeatureCache(tmp_path / "cache", model, None, 0, False, rank=r, processes=2) for r in (0, 1)]
    embedded = {0: [], 1: []}
    for rank, cache in enumerate(ranks):
        real = cache._embed_part
        monkeypatch.setattr(cache, "_embed_part", lambda a, r=rank, real=real: embedded[r].append(a) or real(a))
    # rank 1 first, as if it reached the barrier earlier; rank 0 then embeds its share and assembles every part
    order = sorted(range(len(ARTICLES)), key=lambda i: -sum(len(w) for w in ARTICLES[i]))
    key = cache_key(model, ARTICLES, False, ranks[1].encoder_sha)
    ranks[1].embed_share(ARTICLES, order, tmp_path / "cache" / f"{key}.partial", "train")
    assert not (tmp_path / "cache" / f"{key}.npy").exists(), "only rank 0 writes the split's file"
    vectors = ranks[0].vectors(ARTICLES, "train")
    assert embedded[0] == [[ARTICLES[order[0]]], [ARTICLES[order[2]]]] and embedded[1] == [[ARTICLES[order[1]]]]
    np.testing.assert_allclose(vectors, reference, atol=FP32_TOLERANCE)
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [f"{key}.npy"]


def test_a_probe_run_saves_a_folder_that_predicts_what_it_scored(tmp_path, tiny_encoder_dir):
    config = tiny_config(tmp_path, tiny_encoder_dir, ["training.mode=probe"])
    run = train(config)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["train"]["mode"] == "probe" and metrics["train"]["steps"] == 0
    assert set(metrics["train"]["probe"]["heads"]) == {"topic", "leaning"}
    assert list((tmp_path / "runs" / "feature-cache").glob("*.npy"))
    predictor = Predictor.from_pretrained(run / "model", backend="torch", precision="fp32")
    validation = [row for row in make_rows() if row["split"] == "validation"]
    predicted = predictor.predict(validation)
    for task in ("topic", "leaning"):
        accuracy = np.mean([p[task]["label"] == row[task] for p, row in zip(predicted, validation)])
        assert accuracy == pytest.approx(metrics["splits"]["validation"][task]["accuracy"])
    from safetensors.torch import load_file
    from transformers import BertModel

    saved = load_file(run / "model" / "model.safetensors")
    pretrained = BertModel.from_pretrained(tiny_encoder_dir).state_dict()
    name = "embeddings.word_embeddings.weight"
    stored = next(value for key, value in saved.items() if key.endswith(name))
    assert torch.equal(stored, pretrained[name])


def test_probe_then_finetune_starts_from_the_probe_heads(tmp_path, tiny_encoder_dir, monkeypatch):
    import training.fitting.recipe as train_module

    seen, fitted = {}, {}
    real_fit, real_probe = train_module.run_trainer, train_module.run_probe

    def remember_heads(trainer, state, resume):
        seen.update({name: head.weight.detach().clone() for name, head in trainer.model.heads.items()})
        return real_fit(trainer, state, resume)

    def remember_probe(*args, **kwargs):
        stage = real_probe(*args, **kwargs)
        fitted.update(stage.heads)
        return stage

    monkeypatch.setattr(train_module, "run_trainer", remember_heads)
    monkeypatch.setattr(train_module, "run_probe", remember_probe)
    config = tiny_config(tmp_path, tiny_encoder_dir, ["training.mode=probe+finetune", "training.epochs=1"])
    run = train(config)
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["train"]["probe"]["heads"]) == {"topic", "leaning"} == set(fitted)
    for name in ("topic", "leaning"):
        np.testing.assert_array_equal(seen[name].numpy(), fitted[name].weight)
    assert metrics["train"]["steps"] > 0


def test_the_heads_learning_rate_is_their_own(tmp_path, tiny_encoder_dir):
    from training.fitting.recipe import build_trainer, prepare_run

    config = tiny_config(tmp_path, tiny_encoder_dir, ["training.head_learning_rate=0.05"])
    prepared = prepare_run(config)
    trainer = build_trainer(config, tmp_path / "run", prepared, prepared.datasets["train"], True, None)
    optimizer = trainer.create_optimizer()
    heads = {id(p) for p in trainer.model.heads.parameters()}
    rates = {(id(p) in heads, group["lr"]) for group in optimizer.param_groups for p in group["params"]}
    assert rates == {(True, 0.05), (False, config.training.learning_rate)}
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(list(trainer.model.parameters()))


def test_the_mode_is_checked_before_any_work(tmp_path):
    from training.config import ConfigError

    with pytest.raises(ConfigError, match="mode"):
        load_config(ROOT / "configs" / "default.yaml", ["training.mode=frozen"])


def test_refit_heads_fits_every_head_again_on_the_fine_tuned_encoder(tmp_path, tiny_encoder_dir, monkeypatch):
    from safetensors.torch import load_file

    import training.fitting.recipe as train_module
    from training.heads.feature_cache import encoder_checksum

    stages = []
    real_probe = train_module.run_probe

    def remember_probe(config, model, *args, **kwargs):
        stage = real_probe(config, model, *args, **kwargs)
        stages.append((encoder_checksum(model.encoder), stage.heads))
        return stage

    monkeypatch.setattr(train_module, "run_probe", remember_probe)
    overrides = ["training.mode=probe+finetune", "training.epochs=1", "training.refit_heads=true"]
    run = train(tiny_config(tmp_path, tiny_encoder_dir, overrides))
    metrics = json.loads((run / "metrics.json").read_text())
    assert len(stages) == 2 and stages[0][0] != stages[1][0]  # the second fit reads the fine-tuned encoder
    assert set(metrics["train"]["refit"]["heads"]) == {"topic", "leaning"}
    saved = load_file(run / "model" / "model.safetensors")
    for task, head in stages[1][1].items():
        stored = next(value for key, value in saved.items() if key.endswith(f"heads.{task}.weight"))
        np.testing.assert_array_equal(stored.numpy(), head.weight)


def test_refit_heads_is_refused_for_a_probe_run_before_any_work(tmp_path, tiny_encoder_dir):
    from training.config import ConfigError

    with pytest.raises(ConfigError, match=r"training\.refit_heads"):
        train(tiny_config(tmp_path, tiny_encoder_dir, ["training.mode=probe", "training.refit_heads=true"]))
    assert not (tmp_path / "runs" / "tiny").exists()
