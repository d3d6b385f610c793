"""Another version of the code to time against: a git ref's files, extracted with ``git archive``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def extract(ref: str, dest: Path, paths=("sim", "scenarios")) -> Path | None:
    """The `paths` of git ref `ref` in the new folder `dest`; None (and a note on stderr) if
    the ref is not available, so a benchmark then times this checkout only."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, *paths],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    except (OSError, subprocess.CalledProcessError) as err:
        print(f"version {ref!r} not available ({err}); timing this checkout only", file=sys.stderr)
        return None
    return dest
