"""The code keeps the shape the README promises: linted (ruff), type-checked (mypy), no
module over 400 lines, a kernel that knows no service, no block of code written twice.

What is oversized or written twice today is listed below with the reason; an entry
that is no longer true fails too, so the lists only shrink.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
LINTED = ["soesmart", "launcher", "services", "tests", "bench"]
TYPE_CHECKED = ["soesmart", "launcher", "services"]
KERNEL = ROOT / "soesmart"
# Packages the kernel must not import: the services, and the launcher that wires them.
OUTSIDE_THE_KERNEL = {"services", "launcher"}
MAX_LINES = 400
# A block is this many lines that are not boilerplate (blank lines, comments, docstrings,
# imports, lines of brackets only), compared after stripping indentation.
DUPLICATE_BLOCK_LINES = 6
# Not code of the product, or made by a tool: tests, migrations, generated and installed files.
SKIPPED_PARTS = {"tests", "migrations", "build", "var", "__pycache__", "node_modules"}

# Modules over MAX_LINES today, each with why; remove an entry once its module is smaller.
OVERSIZED_TODAY: dict[str, str] = {
}

# Blocks that stand twice today, by the files they are in; remove an entry once they differ.
DUPLICATED_TODAY: dict[tuple[str, ...], str] = {
    ("soesmart/contracts/measures.py",):
        "MeasurePublished and MeasureSummary carry the same six fields: two wire models, kept "
        "apart so that neither changes when the other does",
}


def _tool(name: str) -> str:
    path = BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (it comes with `pip install -e .[dev]`)")
    return found


def test_ruff_finds_nothing() -> None:
    out = subprocess.run([_tool("ruff"), "check", *LINTED], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_finds_nothing() -> None:
    out = subprocess.run([_tool("mypy"), *TYPE_CHECKED], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


# --------------------------------------------------------------------------- size


def python_modules() -> Iterator[Path]:
    """Every Python module of the product (and its tools), outside tests and migrations."""
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if any(p.startswith(".") or p.endswith(".egg-info") or p in SKIPPED_PARTS for p in parts):
            continue
        yield path


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@cache
def line_counts() -> dict[str, int]:
    return {relative(p): len(p.read_text(encoding="utf-8").splitlines()) for p in python_modules()}


def test_the_modules_are_found() -> None:
    counts = line_counts()
    for known in ("soesmart/config.py", "launcher/cli.py", "services/gateway/entrypoints/service.py"):
        assert known in counts, known
    assert not [p for p in counts if p.startswith("tests/") or "/migrations/" in p]


def test_no_module_is_over_400_lines() -> None:
    over = {p: n for p, n in line_counts().items() if n > MAX_LINES and p not in OVERSIZED_TODAY}
    assert over == {}, f"split these modules (at most {MAX_LINES} lines each): {over}"


def test_the_list_of_oversized_modules_only_shrinks() -> None:
    counts = line_counts()
    done = {p: counts.get(p) for p in OVERSIZED_TODAY if counts.get(p, 0) <= MAX_LINES}
    assert done == {}, f"no longer over {MAX_LINES} lines (or gone): remove from OVERSIZED_TODAY: {done}"


# --------------------------------------------------------------------------- the kernel


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every module a file imports, also by `importlib.import_module("...")` with a literal."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__"):
                yield node.lineno, node.args[0].value


def test_the_kernel_imports_no_service_and_not_the_launcher() -> None:
    found = [
        f"{relative(path)}:{line} imports {module}"
        for path in sorted(KERNEL.rglob("*.py"))
        for line, module in imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        if module.split(".")[0] in OUTSIDE_THE_KERNEL
    ]
    assert found == []


def test_the_import_check_sees_every_way_of_importing() -> None:
    tree = ast.parse("import services.gateway\nfrom launcher import cli\n"
                     "def f():\n    from services.measures import x\n"
                     "importlib.import_module('services.notifications')\n")
    assert [m for _, m in imported_modules(tree)] == [
        "services.gateway", "launcher", "services.measures", "services.notifications"]


# --------------------------------------------------------------------------- written twice

_BRACKETS_ONLY = re.compile(r"[()\[\]{},:;\s]*")


def significant_lines(source: str) -> list[tuple[int, str]]:
    """(line number, stripped text) of the lines that are not boilerplate."""
    tree = ast.parse(source)
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            skipped.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) \
                and node.body and isinstance(node.body[0], ast.Expr) \
                and isinstance(node.body[0].value, ast.Constant) \
                and isinstance(node.body[0].value.value, str):
            doc = node.body[0]
            skipped.update(range(doc.lineno, (doc.end_lineno or doc.lineno) + 1))
    lines = []
    for number, line in enumerate(source.splitlines(), start=1):
        text = line.strip()
        if number in skipped or not text or text.startswith("#") or _BRACKETS_ONLY.fullmatch(text):
            continue
        lines.append((number, text))
    return lines


def duplicated_blocks(sources: dict[str, str]) -> dict[tuple[str, ...], list[str]]:
    """Blocks of DUPLICATE_BLOCK_LINES significant lines that stand more than once,
    by the files they stand in: for each, where (`file:first-last`) and how it begins."""
    places: dict[tuple[str, ...], list[tuple[str, int, int]]] = defaultdict(list)
    for name, source in sources.items():
        lines = significant_lines(source)
        for start in range(len(lines) - DUPLICATE_BLOCK_LINES + 1):
            window = lines[start:start + DUPLICATE_BLOCK_LINES]
            places[tuple(text for _, text in window)].append((name, window[0][0], window[-1][0]))
    found: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for block, where in places.items():
        apart = [w for w in where[1:] if w[0] != where[0][0] or w[1] > where[0][2]]
        if apart:
            files = tuple(sorted({w[0] for w in where}))
            found[files].append(", ".join(f"{n}:{a}-{b}" for n, a, b in where) + f": {block[0]}")
    return dict(found)


@cache
def duplicates_today() -> dict[tuple[str, ...], list[str]]:
    return duplicated_blocks({relative(p): p.read_text(encoding="utf-8") for p in python_modules()})


def test_no_block_of_six_lines_stands_twice() -> None:
    new = {files: blocks[:3] for files, blocks in duplicates_today().items()
           if files not in DUPLICATED_TODAY}
    assert new == {}, "write it once (a function, a constant, a shared module):\n" + "\n".join(
        f"{files}: {blocks}" for files, blocks in new.items())


def test_the_list_of_duplicated_blocks_only_shrinks() -> None:
    gone = [files for files in DUPLICATED_TODAY if files not in duplicates_today()]
    assert gone == [], f"no longer written twice: remove from DUPLICATED_TODAY: {gone}"


def test_the_duplicate_check_finds_a_copied_block_and_ignores_boilerplate() -> None:
    block = "".join(f"    total = total + {i} * weight\n" for i in range(6))
    boilerplate = ('"""Doc\n\nstring\n\nof\n\nlines\n"""\nfrom x import (\n    a,\n    b,\n    c,\n'
                   "    d,\n    e,\n    f,\n)\n")
    sources = {
        "a.py": boilerplate + "def f(total, weight):\n" + block + "    return total\n",
        "b.py": boilerplate + "def g(total, weight):\n    # the same sum\n" + block.replace(
            "    total", "        total") + "        return -total\n",
        "c.py": boilerplate + "def h(total, weight):\n" + block[: block.index("    total = total + 5")]
        + "    return 0\n",
    }
    assert list(duplicated_blocks(sources)) == [("a.py", "b.py")]
    assert list(duplicated_blocks({"d.py": "x = 1\n" * 12})) == [("d.py",)]
    assert duplicated_blocks({"e.py": "x = 1\n" * 7}) == {}  # overlapping: the same lines
