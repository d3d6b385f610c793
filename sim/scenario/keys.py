"""The scenario format's sections and the keys of each (the regimes' keys are in `regimes`).

`SECTION_KEYS` describes every key declaratively, section → key → `Key` (JSON types, the
plausibility bound the checks apply, and a line of documentation), so that a JSON Schema and
the reference can be generated from it; the tuples of key names (``PLANT_KEYS`` ...) and the
bounds the section checks use are read from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sim.physics.ranges import (
    ANY,
    APPROACH_DAYS,
    EFFICIENCY,
    FACTOR,
    FLOW,
    HEAD,
    HEAD_POSITIVE,
    MAX_INFLOW_CV,
    MAX_MEMBERS,
    MAX_UNIT_MW,
    MAX_UNITS,
    MEMBERS,
    NONNEG,
    OPEN_FRACTION,
    STORAGE_EXPONENT_FACTOR,
    STORAGE_FACTOR,
    TAILWATER_SHIFT,
    VOLUME,
    Bound,
    percent_hint,
)

FORMAT_VERSION = 1
#: How ``[optimise]`` sums up a candidate's metrics over the inflow members (besides ``"pNN"``:
#: the NN % worst case, e.g. ``"p10"``; see `sim.studies.optimise`).
OPTIMISE_AGGREGATES = ("mean", "median", "worst")
#: How a sweep makes its settings: a full factorial grid, or samples of ranges (the others).
SWEEP_METHODS = ("grid", "lhs", "sobol", "random")
SAMPLING_METHODS = SWEEP_METHODS[1:]

#: An energy price (regional tariffs and export prices are 5-100 USD/MWh; a generous margin). [USD/MWh]
PRICE = Bound(0.0, 10_000.0, unit="USD/MWh", mistake=lambda v: "USD per GWh instead of per MWh?" if v > 0 else "")

SCENARIO_NAME_RE = re.compile(r"^[a-z0-9-]+$")
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

SECTIONS = (
    "scenario", "period", "reservoir", "plant", "inflow", "losses", "downstream", "demand", "regimes",
    "ensemble", "sweep", "optimise", "exchange", "prices", "sensitivity",
)  # fmt: skip


@dataclass(frozen=True)
class Key:
    """One key of a scenario table.

    Attributes
    ----------
    types : tuple of str
        The TOML/JSON types it may take: "string", "number", "integer", "date", "array",
        "table", "boolean" (a number *or* a series table is ``("number", "table")``).
    doc : str
        What it is, with its unit.
    bound : Bound or None
        The plausibility range of a number (or of each number of an array); None when the
        range depends on other keys (levels: the hypsometry table) or does not apply.
    choices : tuple
        The allowed strings, when they are a fixed list.
    """

    types: tuple
    doc: str
    bound: Bound | None = None
    choices: tuple = ()


def _flow_forms(what: str) -> dict:
    """The keys that give a flow series (one of them), with its options."""
    return {
        "constant_m3s": Key(("number",), f"{what}: the same value every day [m³/s]", FLOW),
        "daily_m3s": Key(("array",), f"{what}: one value per day of the period [m³/s]", FLOW),
        "decadal_m3s": Key(("array",), f"{what}: 36 values Jan I..Dec III, or one per decade of the period [m³/s]", FLOW),
        "monthly_m3s": Key(("array",), f"{what}: 12 values Jan..Dec, or one per month of the period [m³/s]", FLOW),
        "csv": Key(("string",), f"{what}: a CSV file with a date column and a value column"),
        "column": Key(("string",), "with csv: the value column, if the file has several"),
        "start": Key(("string",), 'with decadal or monthly values: the month-day of the first, e.g. "04-01"'),
    }


_SERIES = ("number", "table")
#: Section → key → `Key`, in the order messages list them ([regimes.*] keys: `regimes.RULE_KEYS`).
SECTION_KEYS: dict[str, dict[str, Key]] = {
    "scenario": {
        "name": Key(("string",), "plain name [a-z0-9-]+, names the output folder; default: the file name"),
        "title": Key(("string",), "short title for plots and summaries; default: the name"),
        "description": Key(("string",), "the question the scenario answers"),
        "extends": Key(("string",), "a parent scenario file whose keys apply unless this file gives them"),
        "format": Key(("integer",), "the format version the file is written for", choices=(FORMAT_VERSION,)),
        "regimes": Key(("array",), "run only these regimes, in this order"),
    },
    "period": {
        "start": Key(("date",), "the first simulated day"),
        "end": Key(("date",), "the last simulated day, inclusive"),
    },
    "reservoir": {
        "preset": Key(("string",), "built-in reservoir filling the keys not given"),
        "initial_level_m": Key(("number",), "level at the start [m a.s.l.] (or initial_storage_hm3)", ANY),
        "initial_storage_hm3": Key(("number",), "storage at the start [hm³] (or initial_level_m)", NONNEG),
        "min_level_m": Key(("number",), "minimum operating level [m a.s.l.]", ANY),
        "normal_level_m": Key(("number",), "normal pool level [m a.s.l.]; storage above is spilled", ANY),
        "max_level_m": Key(("number",), "maximum (flood) level [m a.s.l.]", ANY),
        "spillway_capacity_m3s": Key(("number",), "spillway capacity [m³/s]", FLOW),
        "hypsometry": Key(("string",), "a CSV level-storage-area table (level_m, storage_hm3, area_km2)"),
        "siltation_fraction": Key(("number",), "share of storage and area lost to sediment [-]", OPEN_FRACTION),
        "tailwater": Key(("table",), "tailwater rating: { flow_m3s = [...], level_m = [...] }"),
        "tailwater_shift_m": Key(("number",), "added to every level of the tailwater rating (a GUESS: sensitivity) [m]",
                                 TAILWATER_SHIFT),
        "storage_factor": Key(("number",), "k: storage and area at every level times k (volume at the normal level; "
                              "k = 1 − f is siltation f) [-]", STORAGE_FACTOR),
        "storage_exponent_factor": Key(("number",), "r: the table's curvature, V_n (V/V_n)^r with the storage V_n at "
                                       "the normal level held (a power law's exponent b → r·b) [-]",
                                       STORAGE_EXPONENT_FACTOR),
    },
    "plant": {
        "preset": Key(("string",), "built-in plant filling the keys not given"),
        "units": Key(("integer",), "number of installed units",
                     Bound(0.0, MAX_UNITS, integer=True, mistake=lambda v: "the plant has 6 units" if v > 0 else "")),
        "unit_capacity_mw": Key(("number", "array"), "generator capacity per unit [MW]: one number or one per unit",
                                Bound(0.0, MAX_UNIT_MW, unit="MW",
                                      mistake=lambda v: "29 MW per unit; kW instead of MW?" if v > 0 else "")),
        "unit_max_flow_m3s": Key(("number", "array"), "maximum turbine flow per unit [m³/s]: one number or one per unit",
                                 FLOW),
        "efficiency": Key(("number",), "turbine × generator efficiency [-]", EFFICIENCY),
        "min_head_m": Key(("number",), "below this head the turbines stop [m]", HEAD),
        "max_head_m": Key(("number",), "design maximum head [m]", HEAD_POSITIVE),
        "units_available": Key(_SERIES, "units in service: a number or a series table (at most units)"),
    },
    "inflow": {
        "preset": Key(("string",), "built-in inflow profile"),
        **_flow_forms("inflow"),
        "scale": Key(("number",), "multiplier of the inflow [-]", FACTOR),
    },
    "losses": {
        "evaporation_mm_month": Key(("array", "table"), "open-water evaporation: { preset } or 12 values [mm/month]"),
        "evaporation_factor": Key(("number",), "multiplier of evaporation [-]", FACTOR),
        "precipitation_mm_month": Key(("array",), "precipitation on the water surface, 12 values [mm/month]"),
        "seepage_m3s": Key(_SERIES, "other losses [m³/s]: a number or a series table (or { preset })", FLOW),
        "seepage_factor": Key(("number",), "multiplier of seepage_m3s (a DERIVED residual: sensitivity) [-]", FACTOR),
    },
    "downstream": {
        "reach_loss_fraction": Key(("number",), "share of the dam outflow lost before the intakes [-]", OPEN_FRACTION),
        "lateral_inflow_m3s": Key(_SERIES, "inflow between the dam and the intakes [m³/s]: number or series table", FLOW),
    },
    "demand": {
        "name": Key(("string",), "plain, unique name"),
        "description": Key(("string",), "what the demand is"),
        "priority": Key(("integer",), "1 is served first; equal priorities share in proportion",
                        Bound(1.0, 1000.0, integer=True)),
        "location": Key(("string",), "where the water is taken", choices=("downstream", "reservoir")),
        "scale": Key(("number",), "multiplier of the demand [-]", FACTOR),
        "preset": Key(("string",), "built-in demand or protocol"),
        **_flow_forms("demand"),
        "volume_hm3": Key(("number",), "a volume spread evenly over the window's days [hm³]", VOLUME),
        "window": Key(("array",), "[first day, last day] of the volume, inside the period"),
        "extra_m3s": Key(("number",), "extra flow from extra_from to the window's end [m³/s]", FLOW),
        "extra_from": Key(("date",), "the first day of extra_m3s"),
    },
    "ensemble": {
        "members": Key(("integer",), "number of stochastic inflow members", MEMBERS),
        "seed": Key(("integer",), "seed of the random streams", Bound(0.0, integer=True)),
        "inflow_cv": Key(("number",), "coefficient of variation of each decade's inflow [-]",
                         Bound(0.0, MAX_INFLOW_CV, mistake=percent_hint("0.62"))),
        "inflow_lag1": Key(("number",), "decade-to-decade correlation of the inflow [-]",
                           Bound(-1.0, 1.0, lo_open=True, hi_open=True)),
    },
    # besides these, "<key.path>" = values for each swept key (see sim.scenario.overrides)
    "sweep": {
        "method": Key(("string",), "grid (every combination) or a sampling method", choices=SWEEP_METHODS),
        "samples": Key(("integer",), "sampling methods: number of samples", MEMBERS),
        "seed": Key(("integer",), "sampling methods: seed of the sampler", Bound(0.0, integer=True)),
    },
    # `bakhri optimise`: the search (sim.scenario.optimise checks it, sim.studies.optimise runs it)
    "optimise": {
        "regime": Key(("string",), "the regime whose parameters are searched; solutions are new regimes like it"),
        "variables": Key(("table",), 'decision variables: "key.path" = { min, max } for a numeric key, or '
                         '"regimes.<regime>.decadal_m3s" = { min, max, max_step_m3s } for the whole decadal '
                         "schedule (min and max: one number or one per decade) [units of the key]"),
        "objectives": Key(("table",), 'metric = "max" or "min": metrics of summary.csv, or "<user>.<metric>"'),
        "constraints": Key(("table",), "metric = { min = ..., max = ... }: bounds on metrics [units of the metric]"),
        "aggregate": Key(("string",), 'over [ensemble] members: "mean", "median", "worst", or "pNN" (the NN % worst '
                         'case, e.g. "p10")'),
        "population": Key(("integer",), "candidates per generation", Bound(4.0, 100_000.0, integer=True)),
        "generations": Key(("integer",), "generations of the search", Bound(1.0, 100_000.0, integer=True)),
        "seed": Key(("integer",), "seed of the search", Bound(0.0, integer=True)),
    },
    # the exchange study (bakhri exchange, sim.studies.exchange): how the winter after the season is run
    "exchange": {
        "winter_end_level_m": Key(("number",), "level reached on 31 March after the season [m a.s.l.]; default: the "
                                  "level the season starts at (cyclic assumption, GUESS)", ANY),
        "winter_min_release_m3s": Key(("number",), "minimum (sanitary) release over the winter [m³/s]; default 150 "
                                      "(GUESS, DATA.md)", FLOW),
        "winter_approach_days": Key(("number",), "days over which the winter's level rule closes a gap to its line; "
                                    "default 5 (GUESS)", Bound(1.0, APPROACH_DAYS.hi, unit="days")),
    },
    "prices": {
        "usd_per_mwh_summer": Key(("number",), "price of the energy made in the season [USD/MWh]", PRICE),
        "usd_per_mwh_winter": Key(("number",), "price of the energy made in the following winter [USD/MWh]", PRICE),
    },
    # `bakhri sensitivity` (sim.studies.sensitivity); the default inputs: sim.inputs.uncertain
    "sensitivity": {
        "samples": Key(("integer",), "base samples N, a power of two (Saltelli: N × (inputs + 2) members per regime)",
                       Bound(2.0, MAX_MEMBERS, integer=True)),
        "seed": Key(("integer",), "seed of the Sobol' sampler and the bootstrap", Bound(0.0, integer=True)),
        "metrics": Key(("array",), "metrics analysed, e.g. [\"energy_gwh\", \"deficit_hm3\", \"level_end_m\"]"),
        "inputs": Key(("table",), "uncertain inputs: { \"key.path\" = { min = .., max = .. } }; regimes.*.key: every regime"),
        "defaults": Key(("boolean",), "keep the default uncertain inputs (every GUESS and DERIVED value); default true"),
    },
}


def bound(section: str, key: str) -> Bound:
    """The plausibility bound of a numeric key (`SECTION_KEYS`)."""
    return SECTION_KEYS[section][key].bound


SCENARIO_KEYS = tuple(SECTION_KEYS["scenario"])
PERIOD_KEYS = tuple(SECTION_KEYS["period"])
RESERVOIR_KEYS = tuple(SECTION_KEYS["reservoir"])
PLANT_KEYS = tuple(SECTION_KEYS["plant"])
FLOW_FORMS = ("constant_m3s", "daily_m3s", "decadal_m3s", "monthly_m3s", "csv")
FORM_OPTIONS = ("column", "start")
INFLOW_KEYS = tuple(SECTION_KEYS["inflow"])
LOSSES_KEYS = tuple(SECTION_KEYS["losses"])
DOWNSTREAM_KEYS = tuple(SECTION_KEYS["downstream"])
VOLUME_KEYS = ("volume_hm3", "window", "extra_m3s", "extra_from")
DEMAND_KEYS = tuple(SECTION_KEYS["demand"])
ENSEMBLE_KEYS = tuple(SECTION_KEYS["ensemble"])
SWEEP_OPTIONS = tuple(SECTION_KEYS["sweep"])
OPTIMISE_KEYS = tuple(SECTION_KEYS["optimise"])
EXCHANGE_KEYS = tuple(SECTION_KEYS["exchange"])
PRICES_KEYS = tuple(SECTION_KEYS["prices"])
SERIES_TABLE_FORMS = ("constant", "daily", "decadal", "monthly", "csv")


#: Deepest ``extends`` chain, and deepest nesting of arrays and tables, a file may have.
MAX_EXTENDS_DEPTH = 32
MAX_NESTING = 32
