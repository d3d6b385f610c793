"""The uncertain figures of the built-in data and the range each may take: the one table of them.

Every GUESS and DERIVED figure of the presets that changes a run is listed in `UNCERTAIN` with
the range `bakhri sensitivity` samples (uniformly) and where the range comes from. A range is
given as the figure's own label and DATA.md's stated uncertainty say: evaporation ±30 %
(DATA.md), the 1 April storage's 2001–2010 range (DATA.md), the maximum level between the
normal level and the crest (DATA.md), the level–storage table as a family (volume at the normal
level and the curve's exponent: `sim.physics.hypsometry.transform_table`); where DATA.md gives no spread the range is itself a GUESS
and says so.

A default applies to a scenario only when the scenario uses the labelled figure: its value is
the preset's (a scenario that sets its own efficiency has made that figure its question, not a
guess), or it names the preset (evaporation, seepage). `NOT_VARIED` lists the uncertain figures
that cannot be varied between members yet, and why, so that the list printed to users is whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Uncertain", "Range", "UNCERTAIN", "NOT_VARIED", "default_ranges", "nominal_value", "regime_keys"]


@dataclass(frozen=True)
class Uncertain:
    """One uncertain figure and its range.

    Attributes
    ----------
    key : str
        The dotted scenario key it varies; ``regimes.*.<key>`` varies that key of every regime
        that uses the figure, all with the same value (one input).
    what : str
        The figure, with its label, as a user reads it.
    unit : str
    low, high : float
        The range: absolute values (``kind="absolute"``), or added to the scenario's value
        (``kind="offset"``).
    kind : {"absolute", "offset"}
    figure : tuple
        ``(preset kind, preset key)`` of the labelled figure: the default applies when the
        scenario's value equals the preset's; ``(preset kind, None)``: when the scenario names
        a preset of that kind (the key is then a factor of the preset's series).
    label : str
        The figure's label in the data files (GUESS or DERIVED).
    source : str
        Where the range comes from.
    compare : str
        The scenario value compared with the figure, when it is not `key` itself.
    default : float or None
        The key's value when the scenario does not give it (factors 1, shifts 0).
    """

    key: str
    what: str
    unit: str
    low: float
    high: float
    kind: str
    figure: tuple
    label: str
    source: str
    compare: str = ""
    default: float | None = None


#: The default uncertain inputs of `bakhri sensitivity`, in the order they are listed.
UNCERTAIN: tuple[Uncertain, ...] = (
    Uncertain("losses.evaporation_factor", "open-water evaporation (khujand, GUESS): factor", "-",
              0.7, 1.3, "absolute", ("evaporation", None), "GUESS",
              "DATA.md: sensitivity range ±30 %", default=1.0),
    Uncertain("losses.seepage_factor", "seepage and other losses (2001-2010 balance residual, DERIVED): factor", "-",
              0.5, 1.5, "absolute", ("seepage", None), "DERIVED",
              "GUESS: ±50 % for a residual of low-medium confidence that holds gauge error (DATA.md)", default=1.0),
    Uncertain("reservoir.tailwater_shift_m", "tailwater rating 325.0 + 0.003 (Q - 300) m (GUESS): shift", "m",
              -1.0, 1.0, "offset", ("reservoir", "tailwater_level_m"), "GUESS",
              "GUESS: ±1 m on a rating with no data behind it (5-8 % of the 12-22.5 m head)",
              compare="reservoir.tailwater.level_m", default=0.0),
    Uncertain("plant.efficiency", "turbine × generator efficiency (GUESS)", "-",
              -0.05, 0.03, "offset", ("plant", "efficiency"), "GUESS",
              "GUESS: Kaplan units of this size run at 0.85-0.93 (0.90 rehabilitated, 0.85 original)"),
    Uncertain("reservoir.max_level_m", "maximum (flood) level (GUESS)", "m a.s.l.",
              347.5, 351.5, "absolute", ("reservoir", "max_level_m"), "GUESS",
              "DATA.md: none published, between the normal level 347.5 m and the crest 351.5 m"),
    Uncertain("reservoir.min_level_m", "minimum operating level (DERIVED: 347.5 - 7 m)", "m a.s.l.",
              -1.0, 1.0, "offset", ("reservoir", "min_level_m"), "DERIVED",
              "GUESS: ±1 m about 'fluctuates within 7 m' (BSE), a rounded figure"),
    Uncertain("reservoir.initial_storage_hm3", "storage on 1 April (typical 3400 hm³, DERIVED)", "hm³",
              3140.0, 3490.0, "absolute", ("reservoir", "typical_storage_april_hm3"), "DERIVED",
              "DATA.md: 2001-2010 range of the 1 April storage, 3140-3490 hm³"),
    Uncertain("reservoir.storage_factor", "level-storage-area table (power law, DERIVED): storage factor k", "-",
              0.67, 1.01, "absolute", ("hypsometry", None), "DERIVED",
              "DATA.md: 4160 hm³ at the normal level (high; 4.2 km³ in some sources: k = 1.01; BWO Syrdarya "
              "4.03 km³: 0.97); 'a third of volume lost by 2009' (low, conflicting): 0.67. The range spans the "
              "claims, the siltation end the least sure", default=1.0),
    Uncertain("reservoir.storage_exponent_factor", "level-storage-area table (power law, DERIVED): exponent factor r",
              "-", 0.80, 1.00, "absolute", ("hypsometry", None), "DERIVED",
              "DATA.md: exponent 3.08 fitted so that the active volume (340.5-347.5 m) is 2648 hm³, against "
              "2550-2600 published (Wikipedia 2300); with 4160 hm³ held at 347.5 m, r = 0.80 gives 2300 hm³ "
              "(exponent 2.45), 0.94 gives 2550, 0.97 gives 2600, 1.00 the table's 2648", default=1.0),
    Uncertain("ensemble.inflow_lag1", "stochastic inflow: decade-to-decade (lag-one) correlation (GUESS 0.8)", "-",
              0.65, 0.95, "absolute", ("ensemble", "inflow_lag1"), "GUESS",
              "GUESS: 0.8 ± 0.15; DATA.md gives no decade-to-decade correlation (snow- and glacier-fed flow, "
              "regulated upstream by Toktogul, persists); the CV of each decade (inflow_cv) is kept, so a "
              "lower correlation also narrows the season's volumes", default=0.8),
    Uncertain("regimes.*.min_release_m3s", "sanitary minimum release (150 m³/s, GUESS)", "m³/s",
              50.0, 200.0, "absolute", ("constants", "sanitary_min_release_m3s"), "GUESS",
              "DATA.md: 50 m³/s once while refilling (Nov 2009); 150 the lowest decadal release; 200 GUESS"),
)

#: Uncertain figures not varied between members yet, with the reason (printed by --list-inputs).
NOT_VARIED: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Range:
    """An input of a sensitivity analysis: the keys it sets (one value for all) and its range."""

    name: str
    keys: tuple
    low: float
    high: float
    unit: str = ""
    what: str = ""
    label: str = ""
    source: str = ""
    nominal: float | None = None


def nominal_value(resolved: dict, key: str):
    """The value of a dotted key in a resolved scenario (`Scenario.resolved`), or None."""
    node = resolved
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def regime_keys(key: str, sweepable) -> tuple:
    """The sweepable keys a ``regimes.*.<key>`` pattern stands for (the key itself otherwise)."""
    if not key.startswith("regimes.*."):
        return (key,)
    tail = key[len("regimes.*."):]
    return tuple(k for k in sorted(sweepable) if k.startswith("regimes.") and k.split(".", 2)[2:] == [tail])


def _figure(resolved: dict, figure: tuple, load_preset):
    """The labelled figure's value in the preset the scenario uses, or None if it uses none."""
    kind, key = figure
    if kind == "ensemble":  # the generator's own GUESS, used by a scenario with a stochastic inflow
        from sim.inputs.inflow import DEFAULT_LAG1

        return DEFAULT_LAG1 if "ensemble" in resolved else None
    if kind == "hypsometry":  # the preset's DERIVED table: used unless the file gives its own
        reservoir = resolved.get("reservoir", {})
        return "named" if "hypsometry" not in reservoir and reservoir.get("preset") else None
    if key is None:  # a series preset: used when named
        section = {"evaporation": "losses.evaporation_mm_month", "seepage": "losses.seepage_m3s"}[kind]
        spec = nominal_value(resolved, section)
        return "named" if isinstance(spec, dict) and "preset" in spec else None
    name = "bakhri-tojik" if kind == "constants" else nominal_value(resolved, f"{kind}.preset")
    if name is None:
        return None
    try:
        return load_preset(kind, name).get(key)
    except ValueError:  # PresetError: a preset without this figure
        return None


def _value(resolved: dict, key: str, default):
    """A key's value in the resolved scenario, `default` where the scenario leaves it out."""
    value = nominal_value(resolved, key)
    return default if value is None else value


def _same(a, b) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=1e-12)


def default_ranges(resolved: dict, sweepable) -> list[Range]:
    """The defaults of `UNCERTAIN` that apply to a resolved scenario, as `Range` objects.

    An offset range is about the scenario's value; every range is cut to the key's bound
    (`sweepable`: key → `sim.physics.ranges.Bound`).
    """
    from sim.inputs.presets import load_preset

    out = []
    for u in UNCERTAIN:
        figure = _figure(resolved, u.figure, load_preset)
        if figure is None:
            continue
        keys = regime_keys(u.key, sweepable)
        if u.figure[1] is not None:  # the scenario uses the figure itself
            keys = tuple(k for k in keys if _same(_value(resolved, u.compare or k, u.default), figure))
        keys = tuple(k for k in keys if k in sweepable)
        if not keys:
            continue
        nominal = nominal_value(resolved, keys[0])
        nominal = float(nominal) if isinstance(nominal, (int, float)) else u.default
        lo, hi = (u.low, u.high) if u.kind == "absolute" else (nominal + u.low, nominal + u.high)
        b = sweepable[keys[0]]
        lo, hi = max(lo, b.lo), min(hi, b.hi)
        out.append(Range(u.key, keys, lo, hi, u.unit, u.what, u.label, u.source, nominal))
    return out
