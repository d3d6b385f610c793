"""The notebooks in notebooks/ run end to end at small sizes, and are committed without outputs.

Each notebook has a code cell tagged ``parameters`` that holds its sizes. The tests replace that
cell with small values, run the notebook with nbclient in a kernel of *this* interpreter (so no
installed kernelspec or other Python is used), with notebooks/ as the working directory (like
Jupyter), and check that no cell failed and that the last code cell drew a figure.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager  # noqa: E402
from jupyter_client.manager import AsyncKernelManager  # noqa: E402
from traitlets import default  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

#: Small sizes for each notebook's parameters cell.
SMALL = {
    "01-compare-regimes.ipynb": (
        'SCENARIO_FILES = {"average": "baseline.toml", "dry 2008": "dry-2008.toml"}\nINITIAL_LEVEL_M = 344.0\n'
    ),
    "02-parameter-sweep.ipynb": "GRID = 3\nN_SAMPLES = 16\nSEED = 2025\nFAIL_BELOW = 0.9\n",
    "03-dry-year-robustness.ipynb": (
        "N_MEMBERS = 20\nDEFICIT_THRESHOLDS_HM3 = (250, 500, 1000, 2000)\nDRY_QUANTILE = 0.2\n"
    ),
    "04-design-the-schedule.ipynb": "POPULATION = 8\nGENERATIONS = 2\nSEED = 2025\nDRY_MEMBERS = 20\nDRY_QUANTILE = 0.2\n",
    "05-which-guesses-matter.ipynb": "N_SAMPLES = 16\nSEED = 0\n",
}


def _notebook_paths():
    return sorted(NOTEBOOKS.glob("*.ipynb"))


class _ThisInterpreter(KernelSpecManager):
    """Every kernel name resolves to an IPython kernel of the running interpreter.

    A user-level ``python3`` kernelspec (e.g. in ~/.local/share/jupyter) could otherwise point
    at another Python without this package.
    """

    def get_kernel_spec(self, kernel_name):
        pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))
        return KernelSpec(
            argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            display_name=f"Python {sys.version_info[0]} (tests)",
            language="python",
            env={"MPLBACKEND": "Agg", "PYTHONPATH": pythonpath},
            resource_dir=str(NOTEBOOKS),
        )


class _KernelManager(AsyncKernelManager):
    @default("kernel_spec_manager")
    def _default_kernel_spec_manager(self):
        return _ThisInterpreter(parent=self)


def _parameters_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]


def test_every_notebook_is_tested():
    names = {p.name for p in _notebook_paths()}
    assert names, "no notebooks found"
    assert names == set(SMALL), f"notebooks without small parameters (or missing): {sorted(names ^ set(SMALL))}"


@pytest.mark.parametrize("path", _notebook_paths(), ids=lambda p: p.name)
def test_notebook_is_clean(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown" and "Question" in nb.cells[0].source
    assert len(_parameters_cells(nb)) == 1, "exactly one code cell tagged 'parameters'"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {i} has outputs; strip them before committing"
            assert cell.execution_count is None, f"cell {i} has an execution count"
    assert "widgets" not in nb.metadata
    assert nb.cells[-1].cell_type == "markdown", "end with a markdown conclusion"


@pytest.mark.parametrize("path", _notebook_paths(), ids=lambda p: p.name)
def test_notebook_runs_at_small_size(path):
    nb = nbformat.read(path, as_version=4)
    (params,) = _parameters_cells(nb)
    params.source = SMALL[path.name]
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        kernel_manager_class=_KernelManager,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors, f"{errors[0].ename}: {errors[0].evalue}"
    last = code[-1]
    images = [o for o in last.outputs if o.output_type == "display_data" and "image/png" in o.get("data", {})]
    assert images, f"the last code cell drew no figure (outputs: {[o.output_type for o in last.outputs]})"
