"""The README's quick start, as a new user types it, in a fresh copy of the repository.

Slow (it creates virtual environments and installs the package and its dependencies), so it
runs where ``CI`` is set (``.ci/run``) or with ``BAKHRI_INSTALL_TEST=1``, and is skipped
otherwise. It catches what a green suite inside an existing environment hides: a missing
install step, package data that is not installed, and installs that break each other (the
first install's leftovers once turned ``sim`` into an empty namespace package, so the main job
found no presets after the second command).
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENABLED = bool(os.environ.get("CI") or os.environ.get("BAKHRI_INSTALL_TEST"))

pytestmark = pytest.mark.skipif(not ENABLED, reason="installs into new virtual environments; set BAKHRI_INSTALL_TEST=1")


def quick_start_commands() -> list[str]:
    """The shell commands of the README's quick start, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_quick_start_has_an_install_and_run_and_a_test_command():
    run, tests = quick_start_commands()
    assert "pip install ." in run and "bakhri run scenarios/baseline.toml" in run
    assert 'pip install -e ".[test]"' in tests and tests.endswith("python -m pytest")


def _copy_repo(dest: Path) -> Path:
    ignore = shutil.ignore_patterns(
        ".git", ".venv", ".ci-venv", "results", "__pycache__", "*.egg-info", "build", ".hypothesis", ".pytest_cache"
    )
    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def _sh(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=1800)


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "NUMBA_CACHE_DIR"}}
    # python3 on PATH is the interpreter running the tests (new environments are made from it).
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # first run compiles, as after a fresh install
    env.pop("BAKHRI_CACHE_DIR", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _check(proc: subprocess.CompletedProcess, what: str) -> None:
    assert proc.returncode == 0, f"{what} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def _site_package(repo: Path) -> Path | None:
    found = list((repo / ".venv" / "lib").glob("python3*/site-packages/sim"))
    return found[0] if found else None


@pytest.mark.parametrize("order", ["as-written", "reversed"])
def test_readme_commands_in_either_order_then_the_main_job(tmp_path, order):
    run, tests = quick_start_commands()
    # The test command's last step runs this suite: install only (running it here would recurse).
    install_for_tests = tests.rsplit(" && ", 1)[0]
    repo = _copy_repo(tmp_path / "repo")
    env = _clean_env(tmp_path)
    steps = [run, install_for_tests] if order == "as-written" else [install_for_tests, run]
    for command in steps:
        _check(_sh(command, repo, env), command)
        leftover = _site_package(repo)
        if leftover is not None:
            compiled = sorted(p.name for p in leftover.rglob("*.nb[ic]"))
            assert not compiled, f"numba cache files inside the installed package: {compiled}"
    main_job = _sh(".venv/bin/bakhri run scenarios/baseline.toml --out results", repo, env)
    _check(main_job, "the main job after both commands")
    assert (repo / "results" / "baseline" / "summary.csv").is_file()
    assert sorted(p.name for p in (repo / "results" / "baseline" / "plots").glob("*.png"))
    presets = _sh(".venv/bin/bakhri presets", repo, env)
    _check(presets, "bakhri presets")
    assert "reservoir bakhri-tojik" in presets.stdout
    assert "plant rehabilitated" in presets.stdout
    probe = _sh(f"{repo}/.venv/bin/python -c 'import sim; print(sim.__file__)'", tmp_path, env)
    _check(probe, "import sim")
    assert probe.stdout.strip().endswith("__init__.py"), f"sim is a namespace package: {probe.stdout!r}"
