"""Habits that keep the code clean, checked with the rest of the suite (so by ``.ci/run``).

Ruff runs with the configuration in pyproject.toml (pyflakes, bugbear, a complexity ceiling,
import order). It is in the ``test`` extra, so CI always has it; elsewhere the check is skipped
when ruff is not installed, but not where ``CI`` is set: a dropped dependency must not turn
the check into a silent skip.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINTED = ("sim", "tests", "benchmarks")
#: No module of the package may grow past this many lines (aim at 500): a longer one holds
#: more than one concern and is split by concern.
MAX_MODULE_LINES = 600


def _ruff_command() -> list[str] | None:
    if importlib.util.find_spec("ruff") is not None:
        return [sys.executable, "-m", "ruff"]
    found = shutil.which("ruff")
    return [found] if found else None


def test_ruff_finds_nothing():
    command = _ruff_command()
    if command is None:
        if os.environ.get("CI"):
            pytest.fail('ruff is not installed; it is in the test extra: pip install -e ".[test]"')
        pytest.skip("ruff is not installed (pip install ruff, or the test extra)")
    done = subprocess.run(
        [*command, "check", "--no-cache", "--output-format", "concise", *LINTED],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, f"ruff check {' '.join(LINTED)}:\n{done.stdout}{done.stderr}"


def long_modules(root: Path, limit: int) -> list[str]:
    """``"path: N lines"`` for every ``.py`` file under ``root`` longer than ``limit`` lines."""
    out = []
    for path in sorted(root.rglob("*.py")):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > limit:
            out.append(f"{path.relative_to(root.parent)}: {n} lines")
    return out


def test_no_module_of_the_package_is_over_the_limit():
    assert long_modules(ROOT / "sim", MAX_MODULE_LINES) == []


def test_long_modules_counts_lines(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "short.py").write_text("x = 1\n" * 3, encoding="utf-8")
    (package / "sub" / "long.py").write_text("x = 1\n" * 4, encoding="utf-8")
    assert long_modules(package, 3) == [str(Path("pkg/sub/long.py")) + ": 4 lines"]
    assert long_modules(package, 4) == []
