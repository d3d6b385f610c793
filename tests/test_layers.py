"""The package's layers: imports run one way, and no module reads another's private names.

Layers, lowest first (docs/architecture.md): a module may import from its own layer and the
layers below it. `report` and `scenario` are side by side: neither imports the other.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

SIM = Path(importlib.util.find_spec("sim").origin).parent

RANK = {
    "_jit": 0,
    "physics": 1,
    "inputs": 2,
    "rules": 2,
    "engine": 3,
    "scenario": 4,
    "report": 4,
    "studies": 5,
    "builtin": 6,
    "cli": 7,
    "__main__": 8,
}


def _layer(module: str) -> str:
    """``sim.engine.kernels`` → ``engine``; ``sim.cli`` → ``cli``; ``sim`` → ``sim``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _modules():
    for path in sorted(SIM.rglob("*.py")):
        rel = path.relative_to(SIM.parent).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        yield name, path, ast.parse(path.read_text())


def _imports(tree):
    """(line, imported module, names) of every import of sim, inside functions too."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.split(".")[0] == "sim":
            yield node.lineno, node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "sim":
                    yield node.lineno, a.name, []


def _targets(module, names):
    """The sim modules an import reaches: ``from sim.engine import kernels`` reaches sim.engine.kernels."""
    out = [module]
    for n in names:
        if importlib.util.find_spec(module) is not None and (SIM.parent / (module + "." + n).replace(".", "/")).with_suffix(".py").exists():
            out.append(f"{module}.{n}")
    return out


def test_imports_run_downwards():
    upward = []
    for name, path, tree in _modules():
        src = _layer(name)
        if src == "sim":  # sim/__init__.py maps the public names, lazily
            continue
        for line, module, names in _imports(tree):
            for target in _targets(module, names):
                dst = _layer(target)
                if dst in (src, "sim"):
                    continue
                if RANK[dst] >= RANK[src]:
                    upward.append(f"{path.relative_to(SIM.parent)}:{line}: {src} imports {target}")
    assert upward == []


def test_no_module_reads_another_modules_private_names():
    reads = []
    for name, path, tree in _modules():
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sim"):
                for a in node.names:
                    module_file = (SIM.parent / f"{node.module}.{a.name}".replace(".", "/")).with_suffix(".py")
                    if a.name.startswith("_") and not a.name.startswith("__") and not module_file.exists():
                        reads.append(f"{path.relative_to(SIM.parent)}:{node.lineno}: imports {node.module}.{a.name}")
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.startswith("sim"):
                        aliases[a.asname or a.name.split(".")[0]] = a.name
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                target = aliases[node.value.id]
                if (SIM.parent / target.replace(".", "/")).with_suffix(".py").exists() and target != name:
                    reads.append(f"{path.relative_to(SIM.parent)}:{node.lineno}: reads {target}.{node.attr}")
    assert reads == []


@pytest.mark.parametrize("layer", sorted(set(RANK) - {"_jit", "builtin", "cli", "__main__"}))
def test_every_layer_is_a_folder_with_a_docstring(layer):
    init = SIM / layer / "__init__.py"
    assert init.exists()
    assert ast.get_docstring(ast.parse(init.read_text()))
