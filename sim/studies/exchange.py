"""The water–energy exchange rate: what a cubic metre more for one user costs in energy.

For each regime and each decade of the period, user NAME's demand grows by ΔV (spread evenly
over the decade's days), all else equal, and the energy of the season and of the following
winter is compared with the unchanged case. Every decade and ΔV value, the unchanged case and
the user's own demand (with and without it) are members of ONE engine call per regime; with an
``[ensemble]`` every case meets the same inflow members (common random numbers), so the
differences are not blurred by sampling noise and come with their spread across the members.

How the extra volume reaches the user
    A rule that follows the downstream demand (`sim.rules.base.Rule.follows_demand`: the
    ``demand`` rule) releases it by itself. For the other rules (schedule, power, level, a
    Python rule) the same volume is released on top of the rule's request
    (`sim.engine.Model.extra_release_m3s`), grossed up for the reach loss so that it arrives at
    the intakes. A user at the reservoir takes it from the reservoir: no extra release. The
    engine's limits still apply (minimum and maximum release, ramping, outlet capacity, the
    water above the minimum level), so the volume delivered (the change of the user's supply)
    may be less than the volume asked for; both are reported.

The following winter (1 October – 31 March after the period)
    Each member continues from its own storage at the end of the season, on the scenario's
    inflow preset or data (the deterministic inflow, also with an ensemble) and its losses,
    operated by one rule for every member (`WinterRule`): a level rule following a straight
    line in storage from the member's 30 September storage (held on 1 October) to the storage of
    ``end_level_m`` on 31 March (default: the level the season started at, a cyclic assumption: GUESS), never
    below the sanitary minimum release (150 m³/s, GUESS, DATA.md). A member that starts the
    winter with less water so releases less over the winter, at a lower head: the winter figure
    is the energy the missing water would have made. What the winter cannot make up (the
    minimum release binds) is left in storage on 31 March and reported as ``carried_hm3``.

Signs: an energy change is perturbed − unchanged, so a loss is negative; ``kwh_per_m3`` is the
total change per m³ delivered (GWh per hm³ is kWh per m³; empty when nothing arrives) and
``gwh_per_100hm3`` the total change per 100 hm³ asked for.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import difflib
from dataclasses import dataclass, field

import numpy as np

from sim.engine.driver import choose_engine, simulate
from sim.physics import units
from sim.physics.calendar import Period
from sim.rules.base import RULES
from sim.scenario.errors import ScenarioError
from sim.studies.exchange_args import DEFAULT_VOLUME_HM3, HORIZONS
from sim.studies.sweep import CrossedInflow

__all__ = [
    "DEFAULT_VOLUME_HM3", "HORIZONS", "PERCENTILES", "WinterRule", "Prices", "ExchangeError", "ExchangeResult",
    "run", "winter_period", "follows_demand", "winter_rule_of", "prices_of", "check_volumes", "memory_bytes",
]

#: Percentiles of the spread across inflow members (with an ensemble).
PERCENTILES = (10, 50, 90)
#: A volume below this share of the asked volume counts as nothing delivered (no rate). [-]
DELIVERED_EPS = 1e-6
#: The largest volume a decade may be asked for (ten times the reservoir's whole storage). [hm³]
MAX_VOLUME_HM3 = 50_000.0


class ExchangeError(ValueError):
    """Bad input of an exchange study (unknown user, bad volume, a winter the inputs do not cover)."""


@dataclass(frozen=True)
class WinterRule:
    """How the winter after the season is operated: the same for every member.

    Attributes
    ----------
    end_level_m : float or None
        Level to reach on 31 March [m a.s.l.]; None: the level each member started the season
        at (cyclic assumption, GUESS).
    min_release_m3s : float
        Sanitary minimum release over the winter [m³/s]; GUESS (DATA.md: the lowest decadal
        release 2001–2010).
    approach_days : float
        Days over which the level rule closes a gap to its line (GUESS, as baseline.toml). [d]
    """

    end_level_m: float | None = None
    min_release_m3s: float = 150.0
    approach_days: float = 5.0


@dataclass(frozen=True)
class Prices:
    """Prices of energy in the season (summer) and in the winter. [USD/MWh]"""

    summer_usd_per_mwh: float
    winter_usd_per_mwh: float


def winter_rule_of(scenario) -> WinterRule:
    """The scenario's ``[exchange]`` table as a `WinterRule` (defaults for the keys it does not give)."""
    t = scenario.resolved.get("exchange", {})
    d = WinterRule()
    return WinterRule(
        end_level_m=float(t["winter_end_level_m"]) if "winter_end_level_m" in t else d.end_level_m,
        min_release_m3s=float(t.get("winter_min_release_m3s", d.min_release_m3s)),
        approach_days=float(t.get("winter_approach_days", d.approach_days)),
    )


def prices_of(scenario) -> Prices | None:
    """The scenario's ``[prices]`` table, or None."""
    t = scenario.resolved.get("prices")
    return None if not t else Prices(float(t["usd_per_mwh_summer"]), float(t["usd_per_mwh_winter"]))


def follows_demand(regime, user_location: str) -> bool:
    """Whether the regime's own release grows with the user's demand (no extra release needed)."""
    if user_location == "reservoir":
        return True  # the user takes it from the reservoir, not from the release
    return isinstance(regime.rule, str) and RULES[regime.rule].follows_demand


def winter_period(period: Period) -> Period:
    """1 October – 31 March after the period's end."""
    end = period.end
    year = end.year if end.month < 10 else end.year + 1
    return Period(datetime.date(year, 10, 1), datetime.date(year + 1, 3, 31))


@dataclass
class _Case:
    """One perturbation: the user's demand change and whether it adds a release on top."""

    kind: str  # "base", "decade", "without", "with"
    delta_m3s: np.ndarray  # (n_days,) change of the user's demand
    requested_hm3: float = 0.0
    decade: int = -1


@dataclass
class ExchangeResult:
    """The exchange study's figures.

    Attributes
    ----------
    user : str
    horizon : str
        ``winter`` or ``season``.
    n_inflow : int
        Inflow members each case met.
    table : dict of str → ndarray
        One row per regime × decade × volume: the columns of exchange.csv (means over the
        inflow members), then ``*_p10`` ... spreads with an ensemble.
    demand_cost : dict of str → ndarray or None
        One row per regime: the cost of the user's own demand in the scenario (with it vs.
        without it), the same columns as `table` plus ``first_day`` and ``last_day``; None
        when the user has no demand of its own.
    winter : Period or None
    info : dict
        What was run, for run.json.
    """

    user: str
    horizon: str
    n_inflow: int
    table: dict
    demand_cost: dict | None
    winter: Period | None
    info: dict = field(default_factory=dict)


def _user(scenario, name: str):
    users = {u.name: u for u in scenario.compiled.users}
    if name not in users:
        close = difflib.get_close_matches(name, users, n=1)
        hint = f'; did you mean "{close[0]}"?' if close else ""
        raise ExchangeError(f'--user "{name}": no such demand in the scenario{hint} (its demands: '
                            + ", ".join(f'"{n}"' for n in users) + ")")
    return users[name]


def check_volumes(volumes) -> list[float]:
    """The asked volumes as floats, or ExchangeError naming the bad one."""
    out = []
    for v in volumes:
        if not (np.isfinite(v) and 0.0 < v <= MAX_VOLUME_HM3):
            raise ExchangeError(f"--volume-hm3: found {v:g}; expected a volume > 0 and at most {MAX_VOLUME_HM3:,.0f} hm³ "
                                "(the extra water asked for in one decade)")
        out.append(float(v))
    return out


def memory_bytes(n_days: int, n_decades: int, n_volumes: int, n_inflow: int) -> int:
    """Memory of the study's per-member daily arrays: the user's demand and the extra release, each
    (days, cases × inflow members), made whole, and a copy of each in the engine's chunk. [bytes]"""
    n_members = (1 + n_decades * n_volumes + 2) * n_inflow
    return 4 * n_days * n_members * 8


def _cases(period: Period, own_m3s: np.ndarray, volumes) -> list[_Case]:
    n = period.n_days
    ordinal = period.period_decade_ordinal
    cases = [_Case("base", np.zeros(n))]
    for k, d in enumerate(period.decades()):
        days = ordinal == k
        for v in volumes:
            delta = np.where(days, units.hm3_to_m3(v) / (d.n_days_in_period * units.SECONDS_PER_DAY), 0.0)
            cases.append(_Case("decade", delta, v, k))
    if np.any(own_m3s > 0):
        total = float(np.sum(own_m3s) * units.SECONDS_PER_DAY * units.HM3_PER_M3)
        cases.append(_Case("without", -own_m3s))
        cases.append(_Case("with", np.zeros(n), total))
    return cases


def _own_demand(u, n: int) -> np.ndarray:
    """The user's daily demand in the scenario (one member), shape (n,). [m³/s]"""
    a = np.asarray(u.demand_m3s, dtype=float) * float(np.asarray(u.scale))
    return np.array(np.broadcast_to(a[:, 0] if a.ndim == 2 else a, (n,)))


def _member_model(model, user_name: str, cases, n_inflow: int, extra_on_top: bool):
    """The model with one member per case × inflow member: the user's demand and the extra release."""
    n = model.period.n_days
    users = []
    own = None
    for u in model.users:
        if u.name != user_name:
            users.append(u)
            continue
        own = _own_demand(u, n)
        demand = np.stack([np.maximum(own + c.delta_m3s, 0.0) for c in cases], axis=1)
        users.append(dataclasses.replace(u, demand_m3s=np.repeat(demand, n_inflow, axis=1), scale=1.0))
    fields = {"users": tuple(users)}
    if extra_on_top:
        loss = float(np.asarray(model.reach_loss_fraction))
        extra = np.stack([np.maximum(c.delta_m3s, 0.0) + (own if c.kind == "with" else 0.0) for c in cases], axis=1)
        fields["extra_release_m3s"] = np.repeat(extra / (1.0 - loss), n_inflow, axis=1)
    if hasattr(model.inflow_m3s, "materialize"):
        fields["inflow_m3s"] = CrossedInflow(model.inflow_m3s, len(cases))
    if np.ndim(model.initial_storage_m3) == 1:
        fields["initial_storage_m3"] = np.tile(model.initial_storage_m3, len(cases))
    return dataclasses.replace(model, **fields)


def _winter_model(scenario, winter: Period, rule: WinterRule):
    """The winter's model and level regime from the scenario's inputs, or ExchangeError."""
    data = copy.deepcopy(scenario.resolved)
    data["scenario"] = {"name": f"{scenario.name}-winter", "title": "winter after the season"}
    data["period"] = {"start": winter.start, "end": winter.end}
    data.pop("demand", None)  # the winter is operated by its rule alone (see the module docstring)
    data.pop("ensemble", None)
    for study in ("sweep", "optimise", "sensitivity", "exchange", "prices"):  # studies of the season, not of its winter
        data.pop(study, None)
    reservoir = data["reservoir"]
    level = reservoir.get("normal_level_m", 0.0)
    reservoir.pop("initial_storage_hm3", None)
    reservoir["initial_level_m"] = level
    data["regimes"] = {"winter": {"rule": "level", "target_level_m": level, "approach_days": rule.approach_days,
                                  "min_release_m3s": rule.min_release_m3s}}
    from sim.scenario import scenario_from_dict

    try:
        w = scenario_from_dict(data, scenario.path)
    except ScenarioError as err:
        first = err.problems[0]
        raise ExchangeError(f"the inputs do not cover the winter {winter} after the period ({first}); "
                            "give inputs for it or use --horizon season") from None
    model, regimes = w.build()
    return model, regimes["winter"]


def _run_winter(built, rule: WinterRule, start_m3, season_start_m3, engine=None):
    """Winter energy [GWh] and 31 March storage [m³] of members starting at `start_m3`; `built` is
    `_winter_model`'s (model, regime)."""
    model, regime = built
    winter = model.period
    # the file's table as the run reads it (a storage factor of the file's applies to every member)
    hyps = model.reservoir.member_hypsometry()
    k = start_m3.size
    if rule.end_level_m is None:
        end_m3 = np.broadcast_to(np.asarray(season_start_m3, dtype=float), (k,))
    else:
        end_m3 = np.full(k, float(np.ravel(hyps.storage_fast(rule.end_level_m))[0]))
    n = winter.n_days
    # The line starts at the member's storage on the first day (the level rule then follows it
    # exactly, with no catching up) and ends at the target on 31 March.
    frac = (np.arange(n) / max(n - 1, 1))[:, None]
    line_m3 = start_m3[None, :] + (end_m3 - start_m3)[None, :] * frac
    params = dict(regime.params, target_level_m=np.reshape(hyps.level_fast(line_m3.ravel()), line_m3.shape))
    regime = dataclasses.replace(regime, params=params)
    model = dataclasses.replace(model, initial_storage_m3=start_m3)
    result = simulate(model, regime, keep_daily=False, engine=engine)
    return result.metrics["energy_gwh"], units.hm3_to_m3(result.metrics["storage_end_hm3"])


def _rate(total_gwh, delivered_hm3, requested_hm3):
    ok = np.abs(delivered_hm3) > DELIVERED_EPS * requested_hm3
    return np.where(ok, total_gwh / np.where(ok, delivered_hm3, 1.0), np.nan)


def _figures(by_case, cases, idx, prices):
    """Per-inflow-member figures of case `idx` against its reference case: dict of (n_inflow,) arrays."""
    c = cases[idx]
    ref = next(i for i, x in enumerate(cases) if x.kind == ("without" if c.kind == "with" else "base"))
    f = {"requested_hm3": np.full(by_case["season"].shape[1], c.requested_hm3)}
    f["delivered_hm3"] = by_case["supply"][idx] - by_case["supply"][ref]
    f["season_gwh"] = by_case["season"][idx] - by_case["season"][ref]
    f["winter_gwh"] = by_case["winter"][idx] - by_case["winter"][ref]
    f["total_gwh"] = f["season_gwh"] + f["winter_gwh"]
    f["kwh_per_m3"] = _rate(f["total_gwh"], f["delivered_hm3"], c.requested_hm3)
    f["gwh_per_100hm3"] = f["total_gwh"] * 100.0 / c.requested_hm3  # per 100 hm³ asked for (defined when none arrives)
    f["carried_hm3"] = by_case["carried"][idx] - by_case["carried"][ref]
    if prices is not None:
        f["season_usd"] = f["season_gwh"] * 1e3 * prices.summer_usd_per_mwh
        f["winter_usd"] = f["winter_gwh"] * 1e3 * prices.winter_usd_per_mwh
        f["total_usd"] = f["season_usd"] + f["winter_usd"]
        per_m3 = _rate(f["total_usd"], f["delivered_hm3"] * 1e6, c.requested_hm3 * 1e6)
        f["usd_per_m3"] = per_m3
        f["usd_per_1000m3"] = per_m3 * 1e3
    return f


#: Columns whose spread across inflow members is reported with an ensemble.
SPREAD_COLUMNS = ("delivered_hm3", "total_gwh", "kwh_per_m3")


def _summarise(f: dict, n_inflow: int) -> dict:
    row = {k: float(np.nanmean(v)) if np.any(np.isfinite(v)) else float("nan") for k, v in f.items()}
    if n_inflow > 1:
        for k in SPREAD_COLUMNS:
            v = f[k][np.isfinite(f[k])]
            for q in PERCENTILES:
                row[f"{k}_p{q}"] = float(np.percentile(v, q)) if v.size else float("nan")
    return row


def run(scenario, user: str, *, volumes=(DEFAULT_VOLUME_HM3,), horizon: str = "winter", winter_rule=None,
        prices=None, regimes=None, inflow_members=None) -> ExchangeResult:
    """Run the exchange study of `scenario` for `user`.

    Parameters
    ----------
    scenario : sim.scenario.Scenario
    user : str
        A ``[[demand]]`` name.
    volumes : sequence of float
        Volumes asked for in each decade. [hm³]
    horizon : {"winter", "season"}
        With ``winter`` the following winter is simulated too.
    winter_rule : WinterRule, optional
        Default: the scenario's ``[exchange]`` table, else `WinterRule()`.
    prices : Prices, optional
        Default: the scenario's ``[prices]`` table, if any; adds the money columns.
    regimes : list of str, optional
        Default: every regime.
    inflow_members : int, optional
        Inflow members with an ``[ensemble]`` (default: its ``members``).

    Raises
    ------
    ExchangeError
        An unknown user, a bad volume or horizon, a winter the inputs do not cover.
    """
    if horizon not in HORIZONS:
        raise ExchangeError(f'--horizon: found "{horizon}"; expected one of ' + ", ".join(f'"{h}"' for h in HORIZONS))
    volumes = check_volumes(volumes)
    u = _user(scenario, user)
    winter_rule = winter_rule or winter_rule_of(scenario)
    prices = prices or prices_of(scenario)
    period = scenario.period
    own = _own_demand(u, period.n_days)
    cases = _cases(period, own, volumes)
    n_inflow = 1 if scenario.ensemble is None else int(inflow_members or scenario.ensemble.members)
    model, built = scenario.build(n_members=n_inflow)
    names = list(regimes or built)
    winter = winter_period(period) if horizon == "winter" else None
    # built (and its inputs checked) before any run
    winter_built = _winter_model(scenario, winter, winter_rule) if winter is not None else None
    rows, costs = [], []
    decades = period.decades()
    # one path for the whole study (its size is every regime's season and winter), not per call
    days = period.n_days + (winter.n_days if winter is not None else 0)
    engine = choose_engine(len(names) * len(cases) * n_inflow * days)
    for name in names:
        regime = built[name]
        m = _member_model(model, user, cases, n_inflow, not follows_demand(regime, u.location))
        result = simulate(m, regime, keep_daily=False, engine=engine)
        shape = (len(cases), n_inflow)
        by_case = {"season": result.metrics["energy_gwh"].reshape(shape),
                   "supply": result.user_metrics[user]["supply_hm3"].reshape(shape)}
        end_m3 = units.hm3_to_m3(result.metrics["storage_end_hm3"])
        if winter is not None:
            e, s = _run_winter(winter_built, winter_rule, end_m3, result.storage_start_m3, engine)
            by_case["winter"], by_case["carried"] = e.reshape(shape), units.m3_to_hm3(s).reshape(shape)
        else:
            by_case["winter"] = np.zeros(shape)
            by_case["carried"] = units.m3_to_hm3(end_m3).reshape(shape)
        for i, c in enumerate(cases):
            if c.kind == "decade":
                d = decades[c.decade]
                row = {"regime": name, "decade_start": max(d.first_day, period.start).isoformat(), "decade": d.label}
                row.update(_summarise(_figures(by_case, cases, i, prices), n_inflow))
                rows.append(row)
            elif c.kind == "with":
                row = {"regime": name, "first_day": _first_last(period, own)[0], "last_day": _first_last(period, own)[1]}
                row.update(_summarise(_figures(by_case, cases, i, prices), n_inflow))
                costs.append(row)
    info = {"user": user, "volumes_hm3": volumes, "horizon": horizon, "inflow_members": n_inflow,
            "regimes": names, "cases_per_regime": len(cases), "members_per_engine_call": len(cases) * n_inflow,
            "winter": None if winter is None else str(winter), "winter_rule": dataclasses.asdict(winter_rule),
            "prices": None if prices is None else dataclasses.asdict(prices)}
    return ExchangeResult(user, horizon, n_inflow, _columns(rows), _columns(costs) if costs else None, winter, info)


def _first_last(period: Period, own: np.ndarray) -> tuple[str, str]:
    days = np.flatnonzero(own > 0)
    dates = period.dates
    return str(dates[days[0]]), str(dates[days[-1]])


def _columns(rows: list[dict]) -> dict:
    keys = list(rows[0])
    return {k: np.array([r[k] for r in rows], dtype=object if isinstance(rows[0][k], str) else float) for k in keys}
