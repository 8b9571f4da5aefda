from __future__ import annotations

import pickle

import pytest

from datasteward import errors


@pytest.mark.parametrize(
    "cls",
    [
        c
        for c in vars(errors).values()
        if isinstance(c, type) and issubclass(c, errors.DatastewardError)
    ],
)
def test_errors_pickle_with_message_and_hint(cls: type[errors.DatastewardError]) -> None:
    err = cls("data/a.jsonl, line 3: not JSON", hint="fix the line")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is cls
    assert str(back) == "data/a.jsonl, line 3: not JSON (fix the line)"
    assert back.hint == "fix the line"
    assert isinstance(back, errors.DatastewardError)


def test_missing_dependency_message() -> None:
    err = errors.MissingDependencyError.for_extra("ray", "ray", "the Ray executor")
    assert "pip install 'datasteward[ray]'" in str(err)
