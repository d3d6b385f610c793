"""The scenario format's sections and the keys of each (the regimes' keys are in `regimes`)."""

from __future__ import annotations

import re



FORMAT_VERSION = 1
SWEEP_METHODS = ("grid", "lhs", "sobol")

SCENARIO_NAME_RE = re.compile(r"^[a-z0-9-]+$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

SECTIONS = (
    "scenario", "period", "reservoir", "plant", "inflow", "losses", "downstream", "demand", "regimes",
    "ensemble", "sweep",
)  # fmt: skip
SCENARIO_KEYS = ("name", "title", "description", "extends", "format", "regimes")
PERIOD_KEYS = ("start", "end")
RESERVOIR_KEYS = (
    "preset", "initial_level_m", "initial_storage_hm3", "min_level_m", "normal_level_m", "max_level_m",
    "spillway_capacity_m3s", "hypsometry", "siltation_fraction", "tailwater",
)  # fmt: skip
PLANT_KEYS = (
    "preset", "units", "unit_capacity_mw", "unit_max_flow_m3s", "efficiency", "min_head_m", "max_head_m",
    "units_available",
)  # fmt: skip
FLOW_FORMS = ("constant_m3s", "daily_m3s", "decadal_m3s", "monthly_m3s", "csv")
FORM_OPTIONS = ("column", "start")
INFLOW_KEYS = ("preset",) + FLOW_FORMS + FORM_OPTIONS + ("scale",)
LOSSES_KEYS = ("evaporation_mm_month", "evaporation_factor", "precipitation_mm_month", "seepage_m3s")
DOWNSTREAM_KEYS = ("reach_loss_fraction", "lateral_inflow_m3s")
VOLUME_KEYS = ("volume_hm3", "window", "extra_m3s", "extra_from")
DEMAND_KEYS = (
    ("name", "description", "priority", "location", "scale", "preset") + FLOW_FORMS + FORM_OPTIONS + VOLUME_KEYS
)
ENSEMBLE_KEYS = ("members", "seed", "inflow_cv", "inflow_lag1")
SWEEP_OPTIONS = ("method", "samples", "seed")
SERIES_TABLE_FORMS = ("constant", "daily", "decadal", "monthly", "csv")


#: Deepest ``extends`` chain, and deepest nesting of arrays and tables, a file may have.
MAX_EXTENDS_DEPTH = 32
MAX_NESTING = 32
