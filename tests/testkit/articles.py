"""Small labelled data whose labels show in their words: articles, (claim, body) pairs, and files in the layouts
of AllSides and FNC-1."""

from __future__ import annotations

import csv
import gzip
import json
import random
from pathlib import Path
from typing import Any

TOPIC_WORDS = {
    "economy": "inflation market wages bank interest rates jobs trade prices budget",
    "health": "hospital vaccine doctors patients disease clinic nurses medicine virus care",
    "sport": "match goal team season coach league players stadium championship score",
}


LEANING_WORDS = {
    "left": "workers inequality justice unions climate fairness",
    "center": "analysts data report estimates survey officials",
    "right": "taxes freedom security borders liberty deregulation",
}


def make_rows(per_cell: int = 6, seed: int = 0, validation_every: int = 3) -> list[dict[str, Any]]:
    """Articles whose topic and leaning show in their words, with a ``split`` column."""
    rng = random.Random(seed)
    rows = []
    for topic, topic_words in TOPIC_WORDS.items():
        for leaning, leaning_words in LEANING_WORDS.items():
            for k in range(per_cell):
                words = topic_words.split() * 2 + leaning_words.split()
                rng.shuffle(words)
                index = len(rows)
                rows.append(
                    {
                        "id": f"a{index:03d}",
                        "title": " ".join(words[:6]).capitalize(),
                        "content": ". ".join(" ".join(rng.sample(words, 8)) for _ in range(rng.randint(2, 12))) + ".",
                        "topic": topic,
                        "leaning": leaning,
                        "source": f"outlet-{leaning}-{k % 2}",
                        "split": "validation" if k % validation_every == 0 else "train",
                    }
                )
    return rows


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def write_allsides_like(folder: Path) -> None:
    """AllSides' layout: articles.jsonl.gz plus splits.csv with random, media and outlet split columns."""
    folder.mkdir(parents=True)
    rows = make_rows(per_cell=6)
    with gzip.open(folder / "articles.jsonl.gz", "wt", encoding="utf-8") as handle:
        for row in rows:
            record = {k: row[k] for k in ("id", "title", "content", "topic", "source")} | {"bias": row["leaning"]}
            handle.write(json.dumps(record) + "\n")
    with (folder / "splits.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "random_split", "media_split", "outlet_split"])
        for i, row in enumerate(rows):
            split = ["train", "train", "valid", "test", "train", ""][i % 6]
            outlet = {"0": "train", "1": "valid"}[row["source"][-1]]
            writer.writerow([row["id"], split, split, outlet])


def write_fnc1_like(folder: Path, bodies: int = 24, test_bodies: int = 6) -> None:
    """FNC-1's layout: headline/Body ID/Stance tables and Body ID/articleBody tables, train and competition
    test; a body agrees with, disagrees with or discusses its own topic's headline, and is unrelated to others."""
    folder.mkdir(parents=True)
    topics = list(TOPIC_WORDS.items())
    words = {"agree": "confirmed indeed true", "disagree": "denied false hoax", "discuss": "claims alleged reportedly"}
    for stem, first, count in (("train", 0, bodies), ("competition_test", 1000, test_bodies)):
        stances, texts = [], []
        for number in range(first, first + count):
            topic, topic_words = topics[number % len(topics)]
            stance = list(words)[(number // len(topics)) % 3]
            texts.append([number, f"{topic_words} {words[stance]}. {topic_words}."])
            stances.append([f"{topic} news {number}", number, stance])
            other = topics[(number + 1) % len(topics)][0]
            stances.append([f"{other} news {number}", number, "unrelated"])
        for name, header, rows in (
            (f"{stem}_stances.csv", ["Headline", "Body ID", "Stance"], stances),
            (f"{stem}_bodies.csv", ["Body ID", "articleBody"], texts),
        ):
            with (folder / name).open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                writer.writerows(rows)


CLAIMS = ["the bank raised rates", "the storm flooded the coast", "the team won the final", "the vaccine works well"]


STANCE_WORDS = {
    "agree": "confirmed true indeed verified reports confirm",
    "disagree": "false denied hoax untrue officials deny",
}


def pair_rows(seed: int = 0) -> list[dict[str, Any]]:
    """(claim, body, stance) rows: agree/disagree bodies repeat the claim with words for their stance;
    unrelated bodies are about another claim."""
    rng = random.Random(seed)
    rows = []
    for index in range(72):
        claim = CLAIMS[index % 4]
        stance = ("agree", "disagree", "unrelated")[index % 3]
        if stance == "unrelated":
            words = CLAIMS[(index + 1) % 4].split() * 2
        else:
            words = claim.split() + STANCE_WORDS[stance].split()
        rng.shuffle(words)
        split = "validation" if index % 6 == 0 else "train"
        rows.append(
            {"id": f"p{index}", "claim": claim, "content": " ".join(words) + ".", "stance": stance, "split": split}
        )
    return rows
