"""Write tests/golden/outputs.json: the SHA-256 of every CSV the shipped scenarios produce.

The regression test `tests/test_golden.py` proves that restructuring the code changes no
output byte: it runs every scenario in scenarios/ with ``bakhri run --no-plots`` and compares
each CSV with the hash recorded here. Regenerate only when an output is meant to change, and
say why in the commit:

    python tests/golden/make.py
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent


def scenario_files() -> list[pathlib.Path]:
    return sorted((ROOT / "scenarios").glob("*.toml"))


def run_all(out: pathlib.Path) -> None:
    """Run every shipped scenario, and the hedging sweep, without plots into `out`."""
    from sim import cli

    status = cli.main(["run", *map(str, scenario_files()), "--no-plots", "--out", str(out)])
    if status != 0:
        raise RuntimeError(f"bakhri run exited {status}")
    # One sweep too, as CSV (its Parquet file holds the same table; pyarrow's bytes are its own).
    status = cli.main(["sweep", str(ROOT / "scenarios" / "sweep-hedging.toml"), "--no-plots",
                       "--format", "csv", "--out", str(out)])
    if status != 0:
        raise RuntimeError(f"bakhri sweep exited {status}")


def hashes(out: pathlib.Path) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*.csv"))
    }


def main() -> None:
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory() as tmp:
        run_all(pathlib.Path(tmp))
        table = hashes(pathlib.Path(tmp))
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    doc = {"made_at_commit": commit, "files": table}
    (HERE / "outputs.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(table)} files hashed at {commit}")


if __name__ == "__main__":
    main()
