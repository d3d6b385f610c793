"""Bakhri Tojik (Kairakkum) reservoir water–energy scenario simulator."""

from .calendar import Period
from .engine import Model, simulate
from .hydropower import Plant, TailwaterRating
from .hypsometry import Hypsometry, Reservoir
from .regimes import Regime
from .results import SimulationResult
from .demand import User

__version__ = "0.1.0"

__all__ = [
    "Period",
    "Model",
    "simulate",
    "Plant",
    "TailwaterRating",
    "Hypsometry",
    "Reservoir",
    "Regime",
    "SimulationResult",
    "User",
    "__version__",
]
