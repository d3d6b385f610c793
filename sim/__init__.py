"""Bakhri Tojik (Kairakkum) reservoir water–energy scenario simulator.

The public API in one place::

    from sim import load_scenario, simulate
    scenario = load_scenario("scenarios/baseline.toml")
    model, regimes = scenario.build()
    result = simulate(model, regimes["irrigation-first"])

Sweeps: ``sim.sweep.run(scenario, {...})``; built-in objects for notebooks: `sim.builtin`.
"""

from .calendar import Period
from .demand import User
from .engine import Model, simulate
from .hydropower import Plant, TailwaterRating
from .hypsometry import Hypsometry, Reservoir
from .regimes import Regime
from .results import SimulationResult
from .scenario import Scenario, ScenarioError, load_scenario

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
