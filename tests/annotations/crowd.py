"""Load the crowd_truth_infer label sets (shared data) for the annotation tests."""

from __future__ import annotations

import csv
from pathlib import Path

from datafiles import shared

from datasteward.annotations.labels import LabelColumns, LabelSet, read_labels

SETS = ("dog", "face_sentiment", "product_er", "emotion_snow2008")
COLUMNS = LabelColumns(item="question", annotator="worker", label="answer")


def load(name: str) -> tuple[LabelSet, dict[str, int]]:
    folder: Path = shared("annotations", "crowd-truth-inference", name)
    labels = read_labels(folder / "answer.csv", COLUMNS, numeric=True)
    with (folder / "truth.csv").open(newline="") as fh:
        truth = {row["question"]: int(row["truth"]) for row in csv.DictReader(fh)}
    return labels, truth
