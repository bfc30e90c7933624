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


# one planted import per contract (issue #21: blocks -> jobs, hosts -> jobs, stream -> many
# and cli.hosts -> cli.tables passed the contracts of the day): (module, import, contract)
PLANTED = [
    ("core/losses.py", "jaxmlp.cli.common", "Subpackages import only the layers below them"),
    ("core/blocks.py", "jaxmlp.core.jobs", "The engine's own layers"),
    ("core/hosts.py", "jaxmlp.core.jobs", "The engine's own layers"),
    ("core/stream.py", "jaxmlp.core.many", "The engine's own layers"),
    ("cli/hosts.py", "jaxmlp.cli.tables", "The CLI's layers"),
    ("workflows/demo.py", "jaxmlp.workflows.sweep", "Workflow runners are independent"),
    ("reports/html.py", "jaxmlp.reports.table", "Reports are independent of each other"),
]


@pytest.mark.slow
def test_import_linter_names_an_import_that_breaks_each_contract(tmp_path):
    """A copy of the package with one forbidden import planted per contract: lint-imports
    fails, reports every contract broken and names each planted import; the tree as it is
    passes."""
    copy = tmp_path / "src"
    shutil.copytree(SRC, copy / "jaxmlp")
    for module, target, _ in PLANTED:
        path = copy / "jaxmlp" / module
        path.write_text(path.read_text() + f"\nimport {target}  # noqa\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    lint = Path(sys.executable).with_name("lint-imports")
    env = os.environ | {"PYTHONPATH": str(copy)}
    proc = subprocess.run([str(lint), "--no-cache"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode != 0
    assert "jaxmlp.core is not allowed to import jaxmlp.cli" in proc.stdout
    broken = [line for line in proc.stdout.splitlines() if line.endswith(" BROKEN")]
    for module, target, contract in PLANTED:
        assert any(line.startswith(contract) for line in broken), (contract, proc.stdout)
        source = "jaxmlp." + module.removesuffix(".py").replace("/", ".")
        assert f"{source} -> {target}" in proc.stdout, (source, target, proc.stdout)
    assert "Contracts: 0 kept, 5 broken." in proc.stdout
    clean = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                           timeout=120)  # fmt: skip
    assert clean.returncode == 0, clean.stdout


def test_the_layers_contracts_name_every_module_of_their_subpackage():
    """A module left out of a layers contract is checked by nothing (issue #21): every
    module of jaxmlp.core, jaxmlp.cli and jaxmlp.reports sits in one layer of its own."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    for contract in config["contracts"]:
        if contract["type"] != "layers" or "containers" not in contract:
            continue
        (container,) = contract["containers"]
        folder = SRC / container.removeprefix("jaxmlp.")
        named = [m.strip() for layer in contract["layers"] for m in layer.split("|")]
        assert len(named) == len(set(named)), contract["name"]
        modules = {p.stem for p in folder.glob("*.py")} - {"__init__", "__main__"}
        assert set(named) == modules, (contract["name"], modules ^ set(named))
    containers = {c for k in config["contracts"] for c in k.get("containers", [])}
    assert containers == {"jaxmlp.core", "jaxmlp.cli", "jaxmlp.reports"}


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
