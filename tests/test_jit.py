"""Compiled kernels are cached outside the package folder (sim._jit)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim import _jit
from sim.engine import kernels as _kernels

PACKAGE = Path(_kernels.__file__).resolve().parents[1]  # sim/


def _cache_path(dispatcher) -> Path:
    return Path(dispatcher._cache._cache_path).resolve()


@pytest.mark.parametrize("name", ["advance", "level_area", "close_events", "segment", "field_at"])
def test_kernels_cache_outside_the_package(name):
    path = _cache_path(getattr(_kernels, name))
    assert PACKAGE not in path.parents and path != PACKAGE / "__pycache__"
    assert Path(_jit.cache_dir()).resolve() in path.parents


def test_numba_setting_is_restored_after_decorating():
    from numba.core import config

    assert config.CACHE_DIR == os.environ.get("NUMBA_CACHE_DIR", "")


def _cache_dir_in_subprocess(env_extra: dict[str, str], tmp_path: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in {"NUMBA_CACHE_DIR", "BAKHRI_CACHE_DIR", "XDG_CACHE_HOME"}}
    env.update(env_extra)
    code = "from sim.engine import kernels; print(kernels.advance._cache._cache_path)"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=PACKAGE.parent, env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout.strip()


def test_bakhri_cache_dir_and_numba_cache_dir_are_honoured(tmp_path):
    ours = _cache_dir_in_subprocess({"BAKHRI_CACHE_DIR": str(tmp_path / "b")}, tmp_path)
    assert ours.startswith(str(tmp_path / "b" / "numba"))
    numbas = _cache_dir_in_subprocess({"NUMBA_CACHE_DIR": str(tmp_path / "n")}, tmp_path)
    assert numbas.startswith(str(tmp_path / "n"))
    xdg = _cache_dir_in_subprocess({"XDG_CACHE_HOME": str(tmp_path / "x")}, tmp_path)
    assert xdg.startswith(str(tmp_path / "x" / "bakhri" / "numba"))


def test_unwritable_cache_folder_falls_back(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    # A path below a regular file can never be created, even as root.
    fallback = _cache_dir_in_subprocess({"BAKHRI_CACHE_DIR": str(blocker / "sub")}, tmp_path)
    assert not fallback.startswith(str(blocker)) and str(PACKAGE) not in fallback


def test_will_compile_is_true_only_before_the_first_compilation(tmp_path):
    (tmp_path / "tiny.py").write_text(
        "from sim._jit import njit, will_compile\n"
        "@njit(cache=True)\n"
        "def f(x):\n    return x + 1\n"
        "before = will_compile(f)\n"
        "f(1)\n"
        "print(before, will_compile(f))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["BAKHRI_CACHE_DIR"] = str(tmp_path / "cache")
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE.parent), str(tmp_path)])

    def run():
        proc = subprocess.run([sys.executable, "-c", "import tiny"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=True)
        return proc.stdout.split()

    assert run() == ["True", "False"]  # a new install: compiles, then compiled
    assert run() == ["False", "False"]  # the next process loads it from the cache


def test_run_says_so_when_the_engine_compiles(capsys, tmp_path, monkeypatch):
    from sim import cli

    monkeypatch.setattr(_jit, "will_compile", lambda dispatcher: True)
    code = cli.main(["run", str(PACKAGE.parent / "tests" / "bad" / "base.toml"), "--out", str(tmp_path), "--no-plots"])
    err = capsys.readouterr().err
    assert code == 0
    assert err.startswith("bakhri: compiling the engine for this machine (once after an install, about 35 s)")
    monkeypatch.setattr(_jit, "will_compile", lambda dispatcher: False)
    assert cli.main(["run", str(PACKAGE.parent / "tests" / "bad" / "base.toml"), "--out", str(tmp_path), "--no-plots"]) == 0
    assert "compiling" not in capsys.readouterr().err
