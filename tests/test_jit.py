"""Compiled kernels are cached outside the package folder (sim._jit)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim import _jit, _kernels

PACKAGE = Path(_kernels.__file__).resolve().parent


def _cache_path(dispatcher) -> Path:
    return Path(dispatcher._cache._cache_path).resolve()


@pytest.mark.parametrize("name", ["advance", "level_area", "close_events", "_seg", "_at"])
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
    code = "from sim import _kernels; print(_kernels.advance._cache._cache_path)"
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
