"""The public names of ``datasteward`` are exactly the ones we mean (httpx's test of the same
name), they are listed by ``dir()``, and ``import datasteward`` stays light."""

from __future__ import annotations

import subprocess
import sys
import types

import datasteward

INTENDED = [
    "DatastewardError",
    "Project",
    "ProjectStatus",
    "Recipe",
    "__version__",
    "fetch_links",
    "load",
    "load_recipe",
    "verify_release",
]


def test_all_is_exactly_the_intended_names() -> None:
    assert datasteward.__all__ == INTENDED
    assert datasteward.__all__ == sorted(datasteward.__all__)


def test_every_exported_name_resolves_and_dir_lists_it() -> None:
    listed = dir(datasteward)
    for name in datasteward.__all__:
        assert name in listed, name
        value = getattr(datasteward, name)
        if name != "__version__":
            assert getattr(value, "__name__", None) == name  # the object itself, not a module
    # dir() lists nothing else but subpackages (not the helpers __init__ imports)
    others = set(dir(datasteward)) - set(datasteward.__all__)
    assert "errors" in others  # imported by __init__, so listed
    for name in others:
        value = getattr(datasteward, name)
        assert isinstance(value, types.ModuleType), name
        assert value.__name__ == f"datasteward.{name}"


def test_unknown_names_raise_attribute_error() -> None:
    try:
        datasteward.Ledger  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no attribute 'Ledger'" in str(exc)
    else:
        raise AssertionError("datasteward.Ledger should not exist")


def test_import_is_light_and_names_load_on_first_use() -> None:
    code = (
        "import sys, datasteward\n"
        "heavy = ('pyarrow', 'duckdb', 'sqlalchemy')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "datasteward.Project, datasteward.Recipe\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "datasteward.load\n"
        "print('pyarrow' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.splitlines() == ["[]", "[]", "True"], out.stdout + out.stderr
