"""Performance metrics of a run: the metric registry and the Hashimoto definitions.

- `registry`: `Metric` (name, unit, direction, label, format, where it shows, how it is
  computed), `register`, and `compute(context)`, which the engine calls with the kernel's sums;
- `standard`: the metrics every run reports, registered in summary order;
- `hashimoto`: reliability, resilience, vulnerability and sequent peak on daily series (the
  oracle definitions the kernel's sums are checked against) and `DEFICIT_TOLERANCE_M3S`.

Adding a metric: write its `Metric` (a compute function of `Context`) and `register` it.
"""

from sim.engine.metrics import standard  # registers the standard metrics
from sim.engine.metrics.hashimoto import (
    DEFICIT_TOLERANCE_M3S,
    failure_events,
    reliability_time,
    reliability_volume,
    resilience,
    sequent_peak,
    vulnerability,
)
from sim.engine.metrics.registry import (
    VIEWS,
    Context,
    Metric,
    compute,
    compute_user,
    direction,
    get,
    metrics,
    names,
    register,
    shown_in,
    unregister,
    user_names,
)

__all__ = [
    "DEFICIT_TOLERANCE_M3S", "failure_events", "reliability_time", "reliability_volume", "resilience",
    "sequent_peak", "vulnerability",
    "VIEWS", "Context", "Metric", "compute", "compute_user", "direction", "get", "metrics", "names",
    "register", "shown_in", "unregister", "user_names", "standard",
]
