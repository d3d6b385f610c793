"""What ``bakhri show`` prints: a readable view of a checked scenario after inheritance and
presets (the inputs' totals over the period, the demands, the regimes, ensemble and sweep)."""

from __future__ import annotations

import numpy as np

from sim.physics import units
from sim.physics.ranges import number_text


def scenario_text(scenario) -> str:
    """A readable view of the resolved ``scenario`` (a `sim.scenario.Scenario`)."""
    c, r = scenario.compiled, scenario.resolved
    hm3 = units.HM3_PER_M3S_DAY

    def vol(a):
        return float(np.sum(a)) * hm3 if a is not None else 0.0

    lines = [f"{scenario.name}: {scenario.title}"]
    if scenario.description:
        lines += [f"  {line}" for line in scenario.description.strip().splitlines()]
    if scenario.sources:
        lines.append("  files: " + " → ".join(scenario.sources))
    lines.append(f"period      {scenario.period} ({scenario.period.n_days} days)")
    rv = r["reservoir"]
    init = c.initial_storage_m3
    lines.append(
        f"reservoir   {rv['preset']}: start {float(c.hypsometry.level_m_at(init)):.2f} m "
        f"({units.m3_to_hm3(init):.0f} hm³); levels min {rv['min_level_m']}, normal {rv['normal_level_m']}, "
        f"max {rv['max_level_m']} m; spillway {rv['spillway_capacity_m3s']} m³/s; table {c.hypsometry.source}"
        + (f", silted {rv['siltation_fraction']}" if rv["siltation_fraction"] else "")
    )
    p = c.plant
    ua = "all units" if c.units_available is None else f"units available {c.units_available.min():g}–{c.units_available.max():g}"
    lines.append(
        f"plant       {r['plant']['preset']}: {p.n_units} units, {units.w_to_mw(p.installed_w):g} MW, "
        f"{p.unit_max_flow_m3s.sum():g} m³/s, efficiency {p.efficiency}, head {p.min_head_m:g}–{p.max_head_m:g} m; {ua}"
    )
    lines.append(
        f"inflow      {c.inflow_source} × {c.inflow_scale:g}: {vol(c.inflow_m3s) * c.inflow_scale:.0f} hm³ "
        f"(mean {float(np.mean(c.inflow_m3s)) * c.inflow_scale:.0f} m³/s)"
    )
    evap = r["losses"]["evaporation_mm_month"]
    evap_txt = f'preset "{evap["preset"]}"' if isinstance(evap, dict) else "12 monthly values"
    lines.append(
        f"losses      evaporation {evap_txt} × {c.evaporation_factor:g} "
        f"({float(np.sum(c.evaporation_mm_day)) * c.evaporation_factor:.0f} mm over the period); "
        f"precipitation {float(np.sum(c.precipitation_mm_day)):.0f} mm; seepage {vol(c.seepage_m3s):.0f} hm³"
    )
    lines.append(
        f"downstream  reach loss {c.reach_loss_fraction:g}; lateral inflow {vol(c.lateral_inflow_m3s):.0f} hm³"
    )
    if c.users:
        lines.append("demand")
        for u in c.users:
            lines.append(
                f"  {u.name}: priority {u.priority}, {u.location}; {u.source}"
                + (f" × {u.scale:g}" if u.scale != 1 else "")
                + f"; {vol(u.demand_m3s) * u.scale:.0f} hm³ in the period"
            )
    else:
        lines.append("demand      none")
    lines.append("regimes")
    for name, spec in c.regimes.items():
        lim = ", ".join(f"{k.removesuffix('_m3s').removesuffix('_m3s_day').replace('_', ' ')} {number_text(v)}"
                        for k, v in spec.limits.items() if not (k == "min_release_m3s" and v == 0))
        lines.append(f"  {name}: {spec.describe}" + (f" ({lim} m³/s)" if lim else ""))
    if scenario.ensemble is not None:
        e = scenario.ensemble
        lines.append(
            f"ensemble    {e.members} members, seed {e.seed}, inflow cv {e.inflow_cv:g}, lag-1 {e.inflow_lag1:g}"
        )
    if scenario.sweep is not None:
        s = scenario.sweep
        lines.append(f"sweep       {s.method}, {s.n_members} members")
        for k, v in s.parameters.items():
            shown = ", ".join(f"{x:g}" for x in v) if s.method == "grid" else f"{v[0]:g}..{v[1]:g}"
            lines.append(f"  {k}: {shown}")
    if scenario.optimise is not None:
        lines += _optimise_lines(scenario.optimise)
    lines += _study_tables(scenario.resolved)
    return "\n".join(lines) + "\n"


def _optimise_lines(o) -> list[str]:
    """``[optimise]`` in a few lines: the search, its variables, objectives and constraints."""
    lines = [f"optimise    regime {o.regime}: population {o.population} × {o.generations} generations, seed {o.seed}, "
             f"{o.aggregate} over inflow members"]
    for v in o.variables:
        lo, hi = (f"{min(v.lo):g}", f"{max(v.hi):g}")
        what = f"{v.size} decades, {lo}..{hi}" + (f", step <= {v.max_step:g}" if v.max_step else "") if v.is_schedule else f"{lo}..{hi}"
        lines.append(f"  {v.key}: {what}")
    lines.append("  objectives: " + ", ".join(f"{s} {m}" for m, s in o.objectives.items()))
    for m, (lo, hi) in o.constraints.items():
        lines.append(f"  constraint: {m}" + (f" >= {lo:g}" if lo is not None else "") + (f" <= {hi:g}" if hi is not None else ""))
    return lines


def _study_tables(resolved: dict) -> list[str]:
    """The ``[exchange]`` and ``[prices]`` tables (the exchange study's settings), when given."""
    out = []
    ex = resolved.get("exchange")
    if ex:
        end = ex.get("winter_end_level_m")
        out.append("exchange    winter to " + (f"{end:g} m" if end is not None else "the season's start level")
                   + " by 31 March, at least "
                   + (f"{ex['winter_min_release_m3s']:g} m³/s" if "winter_min_release_m3s" in ex else
                      "the default sanitary minimum"))
    prices = resolved.get("prices")
    if prices:
        out.append(f"prices      {prices['usd_per_mwh_summer']:g} USD/MWh in the season, "
                   f"{prices['usd_per_mwh_winter']:g} USD/MWh in the winter")
    return out
