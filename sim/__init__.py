"""Bakhri Tojik (Kairakkum) reservoir water–energy scenario simulator.

The public API in one place::

    from sim import load_scenario, simulate
    scenario = load_scenario("scenarios/baseline.toml")
    model, regimes = scenario.build()
    result = simulate(model, regimes["irrigation-first"])

Sweeps: ``sim.sweep.run(scenario, {...})``; searches: ``sim.optimise.run(scenario)``; which guesses matter:
``sim.sensitivity.run(scenario)``; built-in objects for notebooks: `sim.builtin`.
"""

import importlib

# The public names, imported on first use (PEP 562): `import sim` and `bakhri --help` do not
# load numba, scipy or matplotlib, and a Ctrl-C in the first second of a command reaches the
# command's own handler rather than an import.
_PUBLIC = {
    "Period": "physics.calendar",
    "User": "physics.demand",
    "Plant": "physics.hydropower",
    "TailwaterRating": "physics.hydropower",
    "Hypsometry": "physics.hypsometry",
    "Reservoir": "physics.hypsometry",
    "Regime": "rules.regimes",
    "Model": "engine.driver",
    "simulate": "engine.driver",
    "SimulationResult": "engine.results",
    "Scenario": "scenario",
    "ScenarioError": "scenario",
    "load_scenario": "scenario",
}
# Short names for the modules notebooks use most: ``from sim import calendar, plotting``,
# ``sim.sweep.run(...)``, ``sim.optimise.run(...)``.
_MODULES = {
    "units": "physics.units",
    "calendar": "physics.calendar",
    "sweep": "studies.sweep",
    "optimise": "studies.optimise",
    "sensitivity": "studies.sensitivity",
    "plotting": "report.plotting",
    "output": "report.output",
}


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    else:
        try:  # a submodule: `import sim; sim.sweep.run(...)` as before
            value = importlib.import_module(f"{__name__}.{_MODULES.get(name, name)}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{_MODULES.get(name, name)}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC) | set(_MODULES))


__version__ = "0.1.0"

__all__ = [
    "load_scenario",
    "Scenario",
    "ScenarioError",
    "simulate",
    "Model",
    "Regime",
    "SimulationResult",
    "Period",
    "Plant",
    "TailwaterRating",
    "Hypsometry",
    "Reservoir",
    "User",
    "__version__",
]
