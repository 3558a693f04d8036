"""training.heads.distillation: a student learns from a teacher folder's probabilities (training.teacher)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from testkit.articles import make_rows, write_jsonl
from testkit.same import raw_logits
from testkit.tiny import tiny_config

from inference import Predictor
from inference.model.classifier import NewsClassifierOutput
from training.config import ConfigError
from training.fitting.building import tokenize
from training.fitting.checks import check_config
from training.fitting.recipe import prepare_run, train
from training.heads.distillation import teacher_probabilities
from training.model.trainer import ArticleDataset, MultiTaskTrainer, WindowCollator


class Scores(torch.nn.Module):
    """A model whose logits are fixed, and which takes no keyword it does not know."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = logits

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> NewsClassifierOutput:
        return NewsClassifierOutput(logits=(self.logits,))


@pytest.mark.parametrize("share", [0.0, 0.25, 1.0])
def test_the_loss_mixes_labels_and_teacher_by_distill_weight(share: float):
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    gold, soft = torch.tensor([0, 2]), torch.tensor([[0.1, 0.8, 0.1], [0.3, 0.3, 0.4]])
    trainer = SimpleNamespace(
        task_names=["topic"], task_weights={}, class_weights={}, label_smoothing=0.0, distill_weight=share
    )
    inputs = {"input_ids": torch.ones(2, 3, dtype=torch.long), "attention_mask": torch.ones(2, 3)}
    loss = MultiTaskTrainer.compute_loss(
        trainer, Scores(logits), {**inputs, "labels_topic": gold, "teacher_topic": soft}
    )
    expected = (1 - share) * torch.nn.functional.cross_entropy(logits, gold) + share * -(
        soft * logits.log_softmax(1)
    ).sum(1).mean()
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)


def test_batches_carry_the_teachers_probabilities_as_floats():
    soft = {"topic": np.asarray([[0.2, 0.8], [0.6, 0.4]], dtype=np.float32)}
    dataset = ArticleDataset([[[1, 5, 2]], [[1, 6, 7, 2]]], {"topic": [1, 0]}, soft_labels=soft)
    batch = WindowCollator(pad_token_id=0)([dataset[0], dataset[1]])
    assert batch["teacher_topic"].dtype == torch.float32
    np.testing.assert_array_equal(batch["teacher_topic"].numpy(), soft["topic"])
    with pytest.raises(ValueError, match="1 labels for 2 articles"):
        ArticleDataset([[[1]], [[2]]], {"topic": [0, 1]}, soft_labels={"topic": soft["topic"][:1]})


def test_teacher_probabilities_are_what_the_teacher_predicts(
    tiny_mpnet_model_dir: Path, tiny_encoder_dir: Path, tmp_path: Path
):
    """The fused, calibrated MPNet folder, its vectors from the feature cache: as its Predictor gives them."""
    teacher = f"training.teacher={tiny_mpnet_model_dir}"
    config = tiny_config(tmp_path, tiny_encoder_dir, [teacher, f"training.feature_cache={tmp_path / 'cache'}"])
    prepared = prepare_run(config)
    rows = prepared.splits["train"]
    got = teacher_probabilities(config, rows, ["topic", "leaning"], tokenize, bf16=False)
    expected = Predictor.from_pretrained(tiny_mpnet_model_dir, backend="torch", precision="fp32").predict_proba(
        [{"content": text} for text in rows["text"]]
    )
    for task in ("topic", "leaning"):
        assert got[task].shape == (len(rows), len(expected[task][0]))
        np.testing.assert_allclose(got[task], expected[task], atol=1e-4)


def test_a_student_trains_from_an_mpnet_teacher_and_keeps_its_own_encoder(
    tiny_mpnet_model_dir: Path, tiny_encoder_dir: Path, tmp_path: Path
):
    overrides = [f"training.teacher={tiny_mpnet_model_dir}", "training.distill_weight=0.7", "training.epochs=1"]
    run = train(tiny_config(tmp_path, tiny_encoder_dir, overrides, make_rows()))
    config = json.loads((run / "model" / "config.json").read_text())
    assert config["encoder"]["model_type"] == "bert"
    saved = (run / "config.yaml").read_text()
    assert "distill_weight: 0.7" in saved and str(tiny_mpnet_model_dir) in saved


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (["tasks=[{name: weather, label_column: topic}]"], "the teacher .* has no task 'weather'"),
        (["tasks=[{name: leaning, label_column: leaning, labels: [right, center, left]}]"], "labels .* in the teacher"),
    ],
)
def test_a_teacher_without_the_runs_tasks_is_refused_before_any_work(
    tiny_mpnet_model_dir: Path, tiny_encoder_dir: Path, tmp_path: Path, change: list[str], message: str
):
    config = tiny_config(tmp_path, tiny_encoder_dir, [f"training.teacher={tiny_mpnet_model_dir}", *change])
    with pytest.raises(ConfigError, match=f"training.teacher: .*{message}"):
        check_config(config)


def test_a_teacher_that_is_no_model_folder_is_refused(tiny_encoder_dir: Path, tmp_path: Path):
    config = tiny_config(tmp_path, tiny_encoder_dir, [f"training.teacher={tmp_path / 'nowhere'}"])
    with pytest.raises(ConfigError, match=r"training.teacher: .*no such model folder"):
        check_config(config)


def test_teacher_temperature_replaces_the_one_the_teacher_fitted(
    tiny_mpnet_model_dir: Path, tiny_encoder_dir: Path, tmp_path: Path
):
    from dataclasses import replace

    from inference.prediction.fusion import fused_probabilities, read_calibration

    overrides = [f"training.teacher={tiny_mpnet_model_dir}", "training.teacher_temperature=3.0"]
    config = tiny_config(tmp_path, tiny_encoder_dir, [*overrides, f"training.feature_cache={tmp_path / 'cache'}"])
    rows = prepare_run(config).splits["train"]
    got = teacher_probabilities(config, rows, ["leaning"], tokenize, bf16=False)["leaning"]
    teacher = Predictor.from_pretrained(tiny_mpnet_model_dir, backend="torch", precision="fp32")
    tfidf = teacher.tfidf.scores(list(rows["text"]), ["leaning"])["leaning"]
    logits = np.asarray(raw_logits(teacher, list(rows["text"]))["leaning"])
    calibration = replace(read_calibration(tiny_mpnet_model_dir)["leaning"], temperature=3.0)
    assert calibration != read_calibration(tiny_mpnet_model_dir)["leaning"]
    np.testing.assert_allclose(got, fused_probabilities(logits, calibration, tfidf), atol=1e-4)


@pytest.fixture(scope="module")
def tiny_mpnet_probe_dir(tmp_path_factory: pytest.TempPathFactory, tiny_mpnet_dir: Path) -> Path:
    """A probe teacher: the tiny MPNet frozen, only its heads fitted, no TF-IDF."""
    tmp_path = tmp_path_factory.mktemp("tiny-mpnet-probe")
    recipe = ["training.mode=probe", f"training.feature_cache={tmp_path / 'cache'}"]
    return train(tiny_config(tmp_path, tiny_mpnet_dir, recipe)) / "model"


def out_of_fold_targets(teacher: Path, tmp_path: Path, encoder: Path, rows: list[dict]) -> dict[str, np.ndarray]:
    overrides = [f"training.teacher={teacher}", "training.teacher_targets=out_of_fold", "training.group_folds=3"]
    config = tiny_config(tmp_path, encoder, [*overrides, f"training.feature_cache={tmp_path / 'cache'}"], rows)
    prepared = prepare_run(config)
    train_set = prepared.datasets["train"]
    return teacher_probabilities(
        config, prepared.splits["train"], ["topic", "leaning"], tokenize, False, train_set.labels
    ) | {"source": np.asarray(prepared.splits["train"]["source"])}


def test_out_of_fold_targets_do_not_depend_on_the_articles_own_outlets_labels(
    tiny_mpnet_probe_dir: Path, tiny_encoder_dir: Path, tmp_path: Path
):
    """Relabelling one outlet's articles leaves their targets as they were (their fold's heads never saw them)
    and moves other outlets' targets (whose heads did); the teacher as fitted would hand the labels back."""
    rows = make_rows()
    before = out_of_fold_targets(tiny_mpnet_probe_dir, tmp_path / "a", tiny_encoder_dir, rows)
    relabelled = [{**row, "topic": "sport"} if row["source"] == "outlet-left-0" else row for row in rows]
    after = out_of_fold_targets(tiny_mpnet_probe_dir, tmp_path / "b", tiny_encoder_dir, relabelled)
    outlet = before["source"] == "outlet-left-0"
    assert outlet.any() and (~outlet).any()
    np.testing.assert_allclose(after["topic"][outlet], before["topic"][outlet], atol=1e-6)
    assert np.abs(after["topic"][~outlet] - before["topic"][~outlet]).max() > 1e-3
    for task in ("topic", "leaning"):
        np.testing.assert_allclose(before[task].sum(1), 1.0, atol=1e-5)


def test_a_student_trains_on_out_of_fold_targets(tiny_mpnet_probe_dir: Path, tiny_encoder_dir: Path, tmp_path: Path):
    overrides = [
        f"training.teacher={tiny_mpnet_probe_dir}",
        "training.teacher_targets=out_of_fold",
        "training.epochs=1",
    ]
    run = train(tiny_config(tmp_path, tiny_encoder_dir, [*overrides, "training.group_folds=3"], make_rows()))
    assert "teacher_targets: out_of_fold" in (run / "config.yaml").read_text()
    assert "out-of-fold" in (run / "train.log").read_text()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ([], "was trained with training.mode probe\\+finetune"),
        (["data.group_column=null"], "needs data.group_column"),
    ],
)
def test_out_of_fold_targets_refuse_a_teacher_that_saw_every_article(
    tiny_mpnet_model_dir: Path, tiny_encoder_dir: Path, tmp_path: Path, change: list[str], message: str
):
    overrides = [f"training.teacher={tiny_mpnet_model_dir}", "training.teacher_targets=out_of_fold", *change]
    with pytest.raises(ConfigError, match=f"training.teacher_targets out_of_fold: .*{message}"):
        check_config(tiny_config(tmp_path, tiny_encoder_dir, overrides))


def test_out_of_fold_targets_refuse_a_probe_teacher_that_fuses_tfidf(tiny_mpnet_dir: Path, tmp_path: Path):
    recipe = ["training.mode=probe", "training.fuse_tfidf=true", "training.tfidf_share=0.5"]
    teacher = train(tiny_config(tmp_path / "teacher", tiny_mpnet_dir, recipe)) / "model"
    overrides = [f"training.teacher={teacher}", "training.teacher_targets=out_of_fold"]
    with pytest.raises(ConfigError, match=r"fuses TF-IDF for \['topic', 'leaning'\]"):
        check_config(tiny_config(tmp_path / "student", tiny_mpnet_dir, overrides))


def test_out_of_fold_targets_refuse_a_teacher_without_its_probe_penalties(
    tiny_mpnet_probe_dir: Path, tiny_encoder_dir: Path, tmp_path: Path
):
    import shutil

    teacher = Path(shutil.copytree(tiny_mpnet_probe_dir, tmp_path / "teacher"))
    metrics = json.loads((teacher / "metrics.json").read_text())
    del metrics["train"]["probe"]
    (teacher / "metrics.json").write_text(json.dumps(metrics))
    overrides = [f"training.teacher={teacher}", "training.teacher_targets=out_of_fold"]
    with pytest.raises(ConfigError, match=r"records no probe penalties in metrics.json"):
        check_config(tiny_config(tmp_path / "student", tiny_encoder_dir, overrides))


def test_articles_without_labels_follow_the_training_articles_with_soft_targets_only():
    soft = {"topic": np.asarray([[0.2, 0.8], [0.6, 0.4]], dtype=np.float32)}
    dataset = ArticleDataset([[[1, 5, 2]], [[1, 6, 2]]], {"topic": [1, 0]}, soft_labels=soft)
    extra = {"topic": np.asarray([[0.9, 0.1]], dtype=np.float32)}
    joined = dataset.followed_by([[[1, 7, 8, 2]]], extra)
    assert len(joined) == 3 and len(dataset) == 2
    assert joined.labels["topic"] == [1, 0, -100] and dataset.labels["topic"] == [1, 0]
    np.testing.assert_array_equal(joined[2]["teacher_topic"], extra["topic"][0])
    batch = WindowCollator(pad_token_id=0)([joined[1], joined[2]])
    assert batch["labels_topic"].tolist() == [0, -100]


def test_articles_without_labels_are_refused_without_targets_for_each_task_the_dataset_learns_from_a_teacher():
    soft = {"topic": np.asarray([[0.2, 0.8]], dtype=np.float32)}
    taught = ArticleDataset([[[1, 5, 2]]], {"topic": [1]}, soft_labels=soft)
    with pytest.raises(ValueError, match=r"soft labels for the tasks .*\(\['topic'\]\), got \[\]"):
        taught.followed_by([[[1, 7, 2]]], {})
    with pytest.raises(ValueError, match=r"got \['topic'\]"):
        ArticleDataset([[[1, 5, 2]]], {"topic": [1]}).followed_by([[[1, 7, 2]]], soft)


def test_a_batch_of_articles_without_labels_learns_from_the_teacher_alone():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    soft = torch.tensor([[0.1, 0.9], [0.3, 0.7]])
    trainer = SimpleNamespace(
        task_names=["topic"], task_weights={}, class_weights={}, label_smoothing=0.0, distill_weight=0.25
    )
    inputs = {"input_ids": torch.ones(2, 3, dtype=torch.long), "attention_mask": torch.ones(2, 3)}
    unlabelled = torch.tensor([-100, -100])
    loss = MultiTaskTrainer.compute_loss(
        trainer, Scores(logits), {**inputs, "labels_topic": unlabelled, "teacher_topic": soft}
    )
    assert float(loss) == pytest.approx(0.25 * float(-(soft * logits.log_softmax(1)).sum(1).mean()), rel=1e-6)


def test_a_student_learns_from_the_teachers_reading_of_articles_without_labels(
    tiny_mpnet_model_dir: Path, tiny_encoder_dir: Path, tmp_path: Path
):
    rows = make_rows()
    unlabelled = write_jsonl(
        tmp_path / "unlabelled.jsonl", [{"title": r["title"], "content": r["content"]} for r in rows[:7]]
    )
    overrides = [
        f"training.teacher={tiny_mpnet_model_dir}",
        f"training.teacher_articles=[{unlabelled}]",
        "training.epochs=1",
    ]
    run = train(tiny_config(tmp_path, tiny_encoder_dir, overrides, rows))
    log = (run / "train.log").read_text()
    training = sum(row["split"] == "train" for row in rows)
    assert f"training on {training + 7} articles" in log
    assert "teacher articles: 7 articles without labels" in log
    assert str(unlabelled) in (run / "config.yaml").read_text()


def test_teacher_articles_are_scrubbed_of_the_training_outlets(tiny_encoder_dir: Path, tmp_path: Path):
    from training.data.unlabelled import read_teacher_articles

    unlabelled = write_jsonl(tmp_path / "unlabelled.jsonl", [{"content": "Reporting by Daily Planet staff on taxes."}])
    overrides = [f"training.teacher={tmp_path}", f"training.teacher_articles=[{unlabelled}]"]  # read, not loaded
    config = tiny_config(tmp_path, tiny_encoder_dir, overrides)
    table = read_teacher_articles(config, ["Daily Planet"])
    assert table is not None and len(table) == 1
    assert "Daily Planet" not in table["text"][0] and "taxes" in table["text"][0]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ([], "needs training.teacher"),
        (["training.teacher={teacher}"], "nowhere.jsonl: no such file"),
    ],
)
def test_teacher_articles_are_refused_before_any_work(
    tiny_mpnet_model_dir: Path, tiny_encoder_dir: Path, tmp_path: Path, change: list[str], message: str
):
    overrides = [f"training.teacher_articles=[{tmp_path / 'nowhere.jsonl'}]"]
    overrides += [item.format(teacher=tiny_mpnet_model_dir) for item in change]
    with pytest.raises(ConfigError, match=f"training.teacher_articles: .*{message}"):
        check_config(tiny_config(tmp_path, tiny_encoder_dir, overrides))
