"""Load the crowd_truth_infer label sets (shared data) for the annotation tests, and make a
project of real C4 pages for the release tests."""

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


#: A recipe over C4 pages with one ``[[annotations]]`` table, ``breed``: the dog set's columns
#: (``labels/answer.csv``) aggregated by Dawid-Skene.
LABELLED_RECIPE = """\
[dataset]
name = "c4-labelled"
description = "100 English web pages from C4 with crowd labels, for a release test."

[[stewards]]
name = "Ana Ruiz"
email = "ana@example.org"
role = "maintainer"

[[sources]]
name = "c4"
format = "jsonl"
path = "data/*.jsonl"
url_field = "url"
date_field = "timestamp"
license = "ODC-By-1.0"
attribution = "AllenAI C4"

[[steps]]
use = "filter.length"
min_words = 40

[[annotations]]
name = "breed"
files = ["labels/answer.csv"]
item_field = "question"
annotator_field = "worker"
label_field = "answer"
label_space = ["0", "1", "2", "3"]
method = "ds"
"""


def c4_project(root: Path, recipe: str, *, pages: int = 100) -> Path:
    """``root`` as a project: the first ``pages`` pages of the C4 sample as ``data/c4.jsonl``,
    an empty ``labels/`` folder and ``recipe``."""
    (root / "data").mkdir(parents=True)
    (root / "labels").mkdir()
    lines = shared("webtext", "c4-en-sample-1000", "c4_sample.jsonl").read_text("utf-8")
    (root / "data" / "c4.jsonl").write_text("\n".join(lines.splitlines()[:pages]) + "\n", "utf-8")
    (root / "datasteward.toml").write_text(recipe, "utf-8")
    return root
