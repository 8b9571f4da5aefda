from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from datafiles import shared
from typer.testing import CliRunner

from datasteward.annotations.labour import LabourOptions, labour, top_decile_share
from datasteward.annotations.representation import Target, measure, stratified_draw, wilson


def test_labour_figures_by_hand() -> None:
    # three people; p1: 2 labels, 60 s each, $0.10 each -> $6/h; p2: 1 label 30 s $0.10 -> $12/h;
    # p3: 1 label, no time recorded
    got = labour(
        ["i1", "i2", "i1", "i2"],
        ["p1", "p1", "p2", "p3"],
        ["60", "60", "30", ""],
        ["0.10", "0.10", "0.10", "0.10"],
        LabourOptions(minimum_hourly_wage=7.25),
    )
    assert (got.people, got.labels, got.items) == (3, 4, 2)
    assert got.hours == pytest.approx(150 / 3600)
    assert got.timed_share == 0.75
    assert got.hourly_pay_median == pytest.approx(9.0)
    assert got.hourly_pay_p10 == pytest.approx(6.6)
    assert got.below_minimum == 1
    assert top_decile_share([50, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]) == pytest.approx(51 / 60)


def test_movielens_genre_and_decade_shares_against_targets() -> None:
    folder = shared("movielens", "ml-latest-small")
    with (folder / "movies.csv").open(newline="", encoding="utf-8") as fh:
        movies = list(csv.DictReader(fh))
    genres = [m["genres"].split("|") for m in movies]
    targets = {"Drama": Target(0.45, 0.03), "Horror": Target(0.25, 0.03), "Film-Noir": Target(0.0)}
    rows = {r.value: r for r in measure(genres, targets)}
    drama = sum("Drama" in g for g in genres) / len(genres)
    assert rows["Drama"].share == pytest.approx(drama)
    assert rows["Drama"].low < drama < rows["Drama"].high
    assert rows["Horror"].status == "miss"  # about 10% of the movies, far from 25%
    decades = []
    for m in movies:
        y = re.search(r"\((\d{4})\)\s*$", m["title"])
        decades.append([f"{y.group(1)[:3]}0s"] if y else [])
    dec = {r.value: r for r in measure(decades, {"1990s": Target(0.2), "2000s": Target(0.2)})}
    assert dec["1990s"].count > 1000 and dec["2000s"].count > 1000
    # concentration of ratings across users: the top decile of users gives most ratings
    with (folder / "ratings.csv").open(newline="") as fh:
        per_user: dict[str, int] = {}
        for r in csv.DictReader(fh):
            per_user[r["userId"]] = per_user.get(r["userId"], 0) + 1
    assert 0.3 < top_decile_share(list(per_user.values())) < 0.9
    # a stratified draw meets the decade targets that an unstratified one misses
    keys = [d[0] if d else "none" for d in decades]
    idx = stratified_draw(keys, {"1960s": Target(0.3), "2010s": Target(0.3)}, 200, seed=3)
    drawn = [keys[i] for i in idx]
    assert len(idx) == 200 and drawn.count("1960s") == 60 and drawn.count("2010s") == 60


def test_wilson_interval() -> None:
    low, high = wilson(10, 100)
    assert low == pytest.approx(0.0552, abs=1e-4) and high == pytest.approx(0.1744, abs=1e-4)


def test_cli_agreement_and_aggregate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("crowdkit", reason="needs datasteward[annotations]")
    from datasteward.cli.main import _load, app

    _load()

    monkeypatch.setenv("DATASTEWARD_ANNOTATOR_KEY", "test key")
    f = tmp_path / "l.csv"
    f.write_text(
        "item,annotator,label,lang\n"
        + "".join(
            f"r{i},w{j},{(i + (j == 3)) % 3},{'en' if i < 20 else 'de'}\n"
            for i in range(30)
            for j in range(4)
        )
        + "r1,w1,9,en\n"  # duplicate: quarantined
    )
    args = ["annotations", "agreement", str(f), "--json", "--resamples", "50"]
    r = CliRunner().invoke(app, [*args, "--slice-col", "lang"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert set(data["per_slice"]) == {"en", "de"}
    assert data["per_slice"]["de"]["value"] < 1.0
    assert data["quarantined"] == 1 and data["labels"] == 120
    # w3 always disagrees: last by agreement, and shown only as a pseudonym
    assert data["per_annotator"][0]["agreement"] == 0.0
    assert "w3" not in r.stdout and data["per_annotator"][0]["annotator"].startswith("a-")
    out = tmp_path / "agg.csv"
    r = CliRunner().invoke(
        app, ["annotations", "aggregate", str(f), "--method", "mv", "--out", str(out), "--json"]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["decision"] is None
    r = CliRunner().invoke(
        app,
        ["annotations", "aggregate", str(f), "--method", "ds", "--decide-by", "Ana", "--json"]
        + ["--project", str(tmp_path), "--issues", "0"],
    )
    assert r.exit_code == 0, r.output
    from datasteward.ledger import Ledger

    with Ledger.open(tmp_path) as ledger:
        titles = [d.title for d in ledger.list_decisions()]
        assert titles == ["Aggregate annotations with ds"]
        assert ledger.events()[-1].type == "decision.recorded"
    with out.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 30 and all(int(x["label"]) == int(x["item"][1:]) % 3 for x in rows)
