"""No module imports a private name (``_x``) from another module, nor a private module from
another package, and nothing outside ``Ledger`` opens the ledger's transactions: what is part
of a contract is public, the rest stays where it is used."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _private(part: str) -> bool:
    return part.startswith("_") and not part.startswith("__")


def _modules(src: Path) -> list[tuple[str, str, ast.Module]]:
    found = []
    for path in sorted((src / "datasteward").rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        package = ".".join(parts[:-1])
        found.append((str(path.relative_to(src)), package, ast.parse(path.read_text("utf-8"))))
    return found


def private_imports(src: Path = SRC) -> list[str]:
    """``file:line`` of each import of a private name, or of a private module from outside the
    package that holds it (its package and the packages inside it may use it)."""
    bad = []
    for where, package, tree in _modules(src):
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                continue
            if not node.module.startswith("datasteward"):
                continue
            for alias in node.names:
                parts = [*node.module.split("."), alias.name]
                for i, part in enumerate(parts):
                    if not _private(part):
                        continue
                    owner = ".".join(parts[:i])
                    # a private module of your own package (or an enclosing one) is yours;
                    # a private name is its module's only
                    is_module = (
                        i < len(parts) - 1 or (src / Path(*parts)).with_suffix(".py").exists()
                    )
                    inside = package == owner or package.startswith(owner + ".")
                    if not (is_module and inside):
                        bad.append(f"{where}:{node.lineno} imports {'.'.join(parts)}")
                    break
    return bad


def foreign_transactions(src: Path = SRC) -> list[str]:
    """``file:line`` of each ``x._write``/``x._tx``/``x._engine`` where x is not ``self``."""
    bad = []
    for where, _package, tree in _modules(src):
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("_write", "_tx", "_engine")
                and not (isinstance(node.value, ast.Name) and node.value.id == "self")
            ):
                bad.append(f"{where}:{node.lineno} uses .{node.attr}")
    return bad


def test_no_private_name_is_imported_from_another_module() -> None:
    assert private_imports() == []


def test_only_the_ledger_opens_its_transactions() -> None:
    assert foreign_transactions() == []


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    # the scanners are not vacuous: on a small tree they flag exactly the bad lines
    assert len(_modules(SRC)) > 100
    pkg = tmp_path / "datasteward"
    (pkg / "a").mkdir(parents=True)
    (pkg / "b").mkdir()
    (pkg / "a" / "_inner.py").write_text("X = 1\n")
    (pkg / "a" / "mod.py").write_text("_hidden = 1\n")
    (pkg / "a" / "ok.py").write_text("from datasteward.a._inner import X\nself._write('x')\n")
    (pkg / "b" / "bad.py").write_text(
        "from datasteward.a.mod import _hidden\n"
        "from datasteward.a._inner import X\n"
        "ledger._tx('read')\n"
    )
    assert private_imports(tmp_path) == [
        "datasteward/b/bad.py:1 imports datasteward.a.mod._hidden",
        "datasteward/b/bad.py:2 imports datasteward.a._inner.X",
    ]
    assert foreign_transactions(tmp_path) == ["datasteward/b/bad.py:3 uses ._tx"]
