"""The house rules of src/ (CONTRIBUTING.md), checked: small modules and functions, no
private names across subpackages, and import-linter catching an import that breaks the
layers."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "jaxmlp"
MODULES = sorted(SRC.rglob("*.py"))
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def _subpackage(path: Path) -> str:
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else ""


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef, cli: bool) -> int:
    """A function's lines without its docstring; a CLI command's also without its option
    list (the signature)."""
    body = node.body
    docstring = (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                 and isinstance(body[0].value.value, str))  # fmt: skip
    doc_lines = body[0].end_lineno - body[0].lineno + 1 if docstring else 0
    first = body[0].lineno if cli else node.lineno
    return node.end_lineno - first + 1 - doc_lines


def test_the_rules_see_every_subpackage():
    assert {_subpackage(p) for p in MODULES} == {
        "", "cli", "core", "data", "io", "playground", "reports", "sklearn", "workflows"
    }  # fmt: skip
    assert len(MODULES) > 40


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_modules_are_small(path):
    n = len(path.read_text().splitlines())
    assert n < MAX_MODULE_LINES, f"{path.relative_to(SRC)} has {n} lines"


def test_functions_are_small():
    long = []
    for path in MODULES:
        cli = _subpackage(path) == "cli"
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = _code_lines(node, cli)
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name} ({n})")
    assert not long


def _private_uses(text: str, mine: str) -> list[str]:
    """Private names (``_x``, not dunders) that module source ``text`` of subpackage
    ``mine`` takes from another subpackage: imported by name, or read as an attribute of a
    module imported from there."""
    tree = ast.parse(text)
    foreign_modules: set[str] = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("jaxmlp."):
            if node.module.split(".")[1] == mine:
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"from {node.module} import {alias.name}")
                foreign_modules.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in foreign_modules and node.attr.startswith("_")
                and not node.attr.startswith("__")):  # fmt: skip
            found.append(f"{node.value.id}.{node.attr}")
    return found


def test_no_private_name_crosses_a_subpackage():
    offenders = {str(p.relative_to(SRC)): _private_uses(p.read_text(), _subpackage(p))
                 for p in MODULES}  # fmt: skip
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_private_name_check_catches_both_kinds():
    text = ("from jaxmlp.core.compiled import _memo, describe\n"
            "from jaxmlp.core import many\nmany._blocked\nmany.train_many\n")  # fmt: skip
    assert _private_uses(text, "cli") == ["from jaxmlp.core.compiled import _memo",
                                          "many._blocked"]  # fmt: skip
    assert _private_uses(text, "core") == []  # within a subpackage: allowed


@pytest.mark.slow
def test_import_linter_names_an_import_that_breaks_the_layers(tmp_path):
    """A copy of the package where the engine imports the CLI: lint-imports fails and
    names the import."""
    copy = tmp_path / "src"
    shutil.copytree(SRC, copy / "jaxmlp")
    losses = copy / "jaxmlp" / "core" / "losses.py"
    losses.write_text(losses.read_text() + "\nfrom jaxmlp.cli import common  # noqa\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    lint = Path(sys.executable).with_name("lint-imports")
    env = os.environ | {"PYTHONPATH": str(copy)}
    proc = subprocess.run([str(lint), "--no-cache"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode != 0
    assert "jaxmlp.core is not allowed to import jaxmlp.cli" in proc.stdout
    assert "jaxmlp.core.losses -> jaxmlp.cli.common" in proc.stdout
    clean = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)  # fmt: skip
    assert clean.returncode == 0, clean.stdout


def test_the_engines_docstring_names_all_its_modules():
    """jaxmlp.core's docstring is the engine's map (issue #21: it listed 12 of 17)."""
    core = SRC / "core"
    doc = ast.get_docstring(ast.parse((core / "__init__.py").read_text())) or ""
    missing = [p.stem for p in sorted(core.glob("*.py"))
               if p.stem != "__init__" and f"jaxmlp.core.{p.stem}" not in doc]  # fmt: skip
    assert not missing, f"jaxmlp.core's docstring does not name {missing}"


def test_no_document_is_cited_that_the_repository_does_not_hold():
    """README and the sources cited DESIGN.md / SPEC.md, which live outside it."""
    texts = [ROOT / "README.md", *MODULES]
    for name in ("DESIGN.md", "SPEC.md"):
        cited = [str(t.relative_to(ROOT)) for t in texts if name in t.read_text()]
        assert (ROOT / name).exists() or not cited, f"{name} cited by {cited}"
