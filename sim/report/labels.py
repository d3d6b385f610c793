"""Axis labels with units: `label_for` a metric, daily series or parameter column.

Metrics take their name and unit from the metric registry (`sim.engine.metrics`); other
columns from their unit suffix (DESIGN.md "Units") and the names below.
"""

from __future__ import annotations

import re

from sim.engine import metrics as metric_registry

__all__ = ["label_for", "unit_of"]


#: Unit of each column suffix, longest first.
_SUFFIX_UNITS = (
    ("_mm_month", "mm/month"),
    ("_mm_day", "mm/day"),
    ("_m3s_day", "m³/s per day"),
    ("_m3s", "m³/s"),
    ("_hm3", "hm³"),
    ("_m3", "m³"),
    ("_gwh", "GWh"),
    ("_mwh", "MWh"),
    ("_mw", "MW"),
    ("_w", "W"),
    ("_km2", "km²"),
    ("_m2", "m²"),
    ("_mm", "mm"),
    ("_days", "d"),
    ("_s", "s"),
    ("_m", "m"),
)

#: Names that read better than their column, without the unit suffix, for daily series and
#: parameters (metrics have theirs in the metric registry).
_NAMES = {
    "energy": "Energy",
    "deficit": "Deficit",
    "supply": "Supply",
    "demand": "Demand",
    "release": "Release",
    "turbine": "Turbine flow",
    "turbine_flow": "Turbine flow",
    "spill": "Spill",
    "inflow": "Inflow",
    "evaporation": "Evaporation",
    "precipitation": "Precipitation",
    "seepage": "Seepage",
    "withdrawal": "Withdrawal",
    "storage": "Storage",
    "level": "Level",
    "head": "Head",
    "power": "Power",
    "inflow.scale": "Inflow scale",
    "target": "Target power",
    "min_release": "Minimum release",
    "max_release": "Maximum release",
    "ensemble.inflow_cv": "Inflow CV",
}

#: Dimensionless columns (no unit suffix).
_DIMENSIONLESS = re.compile(r"(reliability|resilience|scale|factor|fraction|cv|efficiency|share|ratio|member)$")
_COUNTS = re.compile(r"(^days_|_days$)")


def label_for(column: str) -> str:
    """Axis label with unit in brackets for a column or parameter name.

    A metric (``"<metric>"``, or ``"<user>.<metric>"`` for a per-user one) takes its label and
    unit from the metric registry (`sim.engine.metrics`). Otherwise the unit comes from the suffix (DESIGN.md "Units"); levels are in m a.s.l.; ratios,
    scales and factors are dimensionless ``[-]``; day counts are ``[d]``. Dotted parameter
    paths are shortened: ``"regimes.irrigation-first.hedging.factor"`` →
    ``"Hedging factor (irrigation-first) [-]"``; per-user summary columns
    ``"<user>.<metric>"`` name the user in parentheses.

    Examples
    --------
    >>> label_for("energy_gwh"), label_for("deficit_hm3"), label_for("level_end_m")
    ('Energy [GWh]', 'Deficit [hm³]', 'End level [m a.s.l.]')
    >>> label_for("inflow.scale"), label_for("reliability_volume")
    ('Inflow scale [-]', 'Volumetric reliability [-]')
    """
    col = str(column)
    metric = _metric_of(col)
    if metric is not None:
        owner = col.split(".")[0] if "." in col else None
        return f"{metric.label}{f' ({owner})' if owner else ''} [{metric.unit}]"
    if col in _NAMES:
        name, stem = _NAMES[col], col
        unit = None
    else:
        owner = None
        parts = col.split(".")
        if len(parts) >= 3 and parts[0] in ("regimes", "demand"):
            owner, parts = parts[1], parts[2:]
        elif len(parts) >= 2 and parts[0] in ("reservoir", "plant", "losses", "ensemble", "period", "scenario"):
            parts = parts[1:]
        elif len(parts) == 2 and parts[0] not in ("inflow", "demand"):
            owner, parts = parts[0], parts[1:]  # "<user>.<metric>" summary columns
        last = parts[-1]
        stem, unit = last, None
        if not _COUNTS.search(last):
            for suffix, u in _SUFFIX_UNITS:
                if last.endswith(suffix) and len(last) > len(suffix):
                    stem, unit = last[: -len(suffix)], u
                    break
        full_stem = "_".join(parts[:-1] + [stem])
        name = _NAMES.get(full_stem) or _NAMES.get(stem)
        if name is None:
            words = " ".join(p.replace("_", " ").replace("-", " ") for p in parts[:-1] + [stem])
            name = words[:1].upper() + words[1:]
        if owner is not None:
            name = f"{name} ({owner})"
    if unit is None:
        unit = "d" if _COUNTS.search(stem) else "-"
    if unit == "m" and "level" in stem:
        unit = "m a.s.l."
    return f"{name} [{unit}]"


def _metric_of(column: str):
    """The registered metric a column holds (``<metric>``, or ``<user>.<metric>`` of a per-user
    metric), or None."""
    owner, _, name = column.rpartition(".")
    metric = metric_registry.get(name)
    if metric is None or (owner and (not metric.per_user or "." in owner)):
        return None
    return metric


def unit_of(column: str) -> str:
    """The unit `label_for` gives a column (without brackets)."""
    label = label_for(column)
    return label[label.rindex("[") + 1 : -1]
