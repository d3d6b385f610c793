"""`bakhri exchange`: its outputs (exchange.csv, plots, run.json) and its printed answer.

`sim.cli` keeps the parser's call (`sim.studies.exchange_args`, light: `bakhri --help` loads no
numba) and a short ``_cmd_exchange``; the work is here, over `sim.studies.exchange`.
"""

from __future__ import annotations

import datetime
import math
import time
from pathlib import Path

import numpy as np

from sim.report import output
from sim.studies import exchange as ex

__all__ = ["run_command", "format_table", "answer", "write", "COLUMNS", "COST_COLUMNS"]

#: exchange.csv's leading columns, in order (DESIGN.md); the others follow.
COLUMNS = ("regime", "decade_start", "requested_hm3", "delivered_hm3", "season_gwh", "winter_gwh", "total_gwh",
           "kwh_per_m3")
#: demand-cost.csv's leading columns.
COST_COLUMNS = ("regime", "first_day", "last_day", "requested_hm3", "delivered_hm3", "season_gwh", "winter_gwh",
                "total_gwh", "kwh_per_m3")


def check_regimes(scenario, names) -> list | None:
    """The regimes asked for, or ExchangeError naming an unknown one (with a did-you-mean)."""
    if not names:
        return None
    import difflib

    for n in names:
        if n not in scenario.regime_names:
            close = difflib.get_close_matches(n, scenario.regime_names, n=1)
            hint = f'; did you mean "{close[0]}"?' if close else ""
            raise ex.ExchangeError(f'--regime "{n}": no such regime in the scenario{hint} (its regimes: '
                                   + ", ".join(scenario.regime_names) + ")")
    return list(dict.fromkeys(names))


def run_command(scenario, args, before_run=None, ahead=None) -> int:
    """`bakhri exchange` after the scenario loaded: check, run, write, print. Raises ExchangeError.

    `before_run` is called once the inputs are checked, before the engine loads (the CLI's
    "compiling" note); `ahead` (a `sim.report.plots_exchange.PlotAhead`, owned by the caller)
    draws the plot."""
    if args.members is not None and args.members < 1:
        raise ex.ExchangeError(f"--members is {args.members}; expected a whole number >= 1")
    if args.members is not None and scenario.ensemble is None:
        raise ex.ExchangeError("--members needs an [ensemble] table in the scenario")
    ex.check_volumes(args.volume_hm3)
    regimes = check_regimes(scenario, args.regime)
    name = scenario.name + "-exchange"
    out = Path(args.out)
    output.prepare(out, name)
    from sim.engine import memory

    n_inflow = 1 if scenario.ensemble is None else scenario.ensemble.members
    n_decades = len(scenario.period.decades())
    memory.require(ex.memory_bytes(scenario.period.n_days, n_decades, len(args.volume_hm3), n_inflow),
                   f"{scenario.path}: {n_inflow:,} inflow members × {1 + n_decades * len(args.volume_hm3) + 2} cases "
                   f"× {scenario.period.n_days} days of demand and extra release",
                   "Use fewer inflow members (--members N) or fewer volumes (--volume-hm3).")
    if before_run is not None:
        before_run()
    t0 = time.perf_counter()
    result = ex.run(scenario, args.user, volumes=args.volume_hm3, horizon=args.horizon, regimes=regimes,
                    inflow_members=args.members)
    run_s = time.perf_counter() - t0
    info = {"scenario_file": str(scenario.path), "command": "bakhri " + " ".join(args.argv),
            "timings": {"exchange_s": run_s}}
    folder = write(result, scenario, out, name, info, plots=not args.no_plots, ahead=ahead)
    members = f", {result.n_inflow} inflow members" if result.n_inflow > 1 else ""
    print(f"{scenario.name}: {scenario.title}  (exchange for {args.user}{members}; {run_s:.2f} s)")
    print(format_table(result))
    print()
    print(answer(result))
    files = "exchange.csv, " + ("demand-cost.csv, " if result.demand_cost else "")
    print(f"written: {folder}/ ({files}" + ("plots/, " if not args.no_plots else "") + "scenario.resolved.toml, run.json)")
    return 0


def _cell(v) -> str:
    if isinstance(v, str):
        return v
    v = float(v)
    return "" if not math.isfinite(v) else f"{v:.6g}"


def _write_csv(path: Path, table: dict, leading) -> None:
    keys = list(leading) + [k for k in table if k not in leading]
    n = len(table[keys[0]])
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(keys) + "\n")
        for i in range(n):
            f.write(",".join(_cell(table[k][i]) for k in keys) + "\n")


def write(result, scenario, out_dir: Path, name: str, info: dict, plots: bool = True, ahead=None) -> Path:
    """Write DIR/<name>/ atomically: exchange.csv, demand-cost.csv (when the user has a demand),
    plots/exchange.png, scenario.resolved.toml, run.json. `ahead` (a `PlotAhead`) draws the plot
    in its process while this one writes the rest; without it, or when it fails, it is drawn here."""
    resolved = scenario.to_toml()

    def fill(tmp: Path):
        t0 = time.perf_counter()
        plot = {"user": result.user, "title": scenario.title, "footnote": _footnote(result)}
        if plots and ahead is not None:
            ahead.send(result.table, tmp, **plot)
        _write_csv(tmp / "exchange.csv", result.table, COLUMNS)
        if result.demand_cost:
            _write_csv(tmp / "demand-cost.csv", result.demand_cost, COST_COLUMNS)
        (tmp / "scenario.resolved.toml").write_text(resolved, encoding="utf-8")
        if plots and not (ahead is not None and ahead.wait()):
            from sim.report.plots_exchange import save_exchange

            save_exchange(result.table, tmp, **plot)
        doc = _run_json(scenario, resolved, result, info, time.perf_counter() - t0)
        output.write_json(tmp / "run.json", doc)

    return output.write_atomically(out_dir, name, fill)


def _run_json(scenario, resolved: str, result, info: dict, write_s: float) -> dict:
    """run.json: who wrote it (so that a later run may replace the folder), the inputs' hash, what ran."""
    import hashlib
    import platform

    from sim import __version__

    timings = dict(info.get("timings", {}), write_s=write_s)
    doc = {
        "written_by": output.WRITTEN_BY, "scenario": scenario.name, "study": "exchange", "version": __version__,
        "seed": scenario.ensemble.seed if scenario.ensemble else None,
        "input_sha256": hashlib.sha256(resolved.encode("utf-8")).hexdigest(),
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "scenario_file": info.get("scenario_file"), "command": info.get("command"), "timings": timings,
        "python": platform.python_version(), "numpy": np.__version__, "period": str(scenario.period),
        **result.info,
        "columns": {"energy (_gwh)": "perturbed - unchanged [GWh]: a loss is negative",
                    "kwh_per_m3": "total energy change per m³ delivered to the user [kWh/m³]",
                    "gwh_per_100hm3": "total energy change per 100 hm³ asked for [GWh]",
                    "carried_hm3": "storage change left on 31 March after the winter (at the end of the season "
                    "with --horizon season) [hm³]"},
    }
    return output.jsonable(doc)


def _footnote(result) -> str:
    w = result.info["winter_rule"]
    winter = ("the winter not simulated (--horizon season)" if result.winter is None else
              f"winter {result.winter}: level rule back to "
              + ("the season's start level (GUESS)" if w["end_level_m"] is None else f"{w['end_level_m']:g} m")
              + f" by 31 March, at least {w['min_release_m3s']:g} m³/s")
    spread = f"; mean of {result.n_inflow} inflow members" if result.n_inflow > 1 else ""
    return f"Energy change = with the extra demand − without (a loss is negative); {winter}{spread}."


def format_table(result) -> str:
    """The printed table: one line per regime × decade × volume."""
    t = result.table
    head = (f"{'regime':<18} {'decade':<12} {'asked':>7} {'deliv.':>7} {'season':>8} {'winter':>8} {'total':>8} "
            f"{'kWh/m³':>8}")
    units_line = f"{'':<18} {'':<12} {'hm³':>7} {'hm³':>7} {'GWh':>8} {'GWh':>8} {'GWh':>8} {'':>8}"
    lines = [head, units_line]
    for i in range(len(t["regime"])):
        lines.append(f"{t['regime'][i]:<18} {t['decade'][i]:<12} {t['requested_hm3'][i]:>7.0f} "
                     f"{t['delivered_hm3'][i]:>7.1f} {t['season_gwh'][i]:>+8.2f} {t['winter_gwh'][i]:>+8.2f} "
                     f"{t['total_gwh'][i]:>+8.2f} {_rate_text(t['kwh_per_m3'][i]):>8}")
    return "\n".join(lines)


def _rate_text(v) -> str:
    return "n/a" if not math.isfinite(v) else f"{v:+.3f}"


def _when(first: str, last: str) -> str:
    """``June–August`` for whole months, else ``5 June – 20 August``."""
    a, b = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last)
    month_end = (b + datetime.timedelta(days=1)).day == 1
    if a.day == 1 and month_end:
        return a.strftime("%B") if (a.year, a.month) == (b.year, b.month) else f"{a:%B}–{b:%B}"
    return f"{a.day} {a:%B} – {b.day} {b:%B}"


def _money(row: dict) -> str:
    if "total_usd" not in row:
        return ""
    return f", worth {row['total_usd']:+,.0f} USD ({_usd_rate(row['usd_per_1000m3'])})"


def _usd_rate(v) -> str:
    return "n/a per 1000 m³" if not math.isfinite(v) else f"{v:+.2f} USD per 1000 m³"


def _spread(row: dict) -> str:
    if "total_gwh_p10" not in row:
        return ""
    return f"; total change p10–p90 {row['total_gwh_p10']:+.1f} to {row['total_gwh_p90']:+.1f} GWh"


def _cost(gwh: float) -> str:
    """A signed energy change as words: ``a loss of 4.2 GWh``, ``a gain of 1.3 GWh``."""
    if abs(gwh) < 0.05:
        return "no change (under 0.05 GWh)"
    return f"a loss of {-gwh:.1f} GWh" if gwh < 0 else f"a gain of {gwh:.1f} GWh"


def answer(result) -> str:
    """ONE paragraph answering the question: the user's own demand when it has one, else the decades."""
    mean = f" (means over {result.n_inflow} inflow members)" if result.n_inflow > 1 else ""
    parts = []
    if result.demand_cost:
        c = result.demand_cost
        rows = [{k: c[k][i] for k in c} for i in range(len(c["regime"]))]
        head = f"{rows[0]['requested_hm3']:,.0f} hm³ for {result.user} in {_when(rows[0]['first_day'], rows[0]['last_day'])}"
        for r in rows:
            parts.append(f"under {r['regime']} {r['delivered_hm3']:,.0f} hm³ of them are delivered, with "
                         f"{_cost(r['season_gwh'])} this season and "
                         + ("next winter not simulated" if result.winter is None else
                            f"{_cost(r['winter_gwh'])} next winter")
                         + f": {_cost(r['total_gwh'])} in all ({_rate_text(r['kwh_per_m3'])} kWh/m³{_spread(r)})"
                         + _money(r))
        text = head + mean + ": " + "; ".join(parts) + "."
    else:
        t = result.table
        volume = t["requested_hm3"][0]
        for regime in dict.fromkeys(t["regime"]):
            rows = (t["regime"] == regime) & (t["requested_hm3"] == volume)
            total = t["total_gwh"][rows]
            lo, hi = int(np.nanargmin(total)), int(np.nanargmax(total))
            dec = t["decade"][rows]
            rate = t["kwh_per_m3"][rows]
            parts.append(f"under {regime} from {total[lo]:+.2f} GWh ({dec[lo]}, {_rate_text(rate[lo])} kWh/m³) to "
                         f"{total[hi]:+.2f} GWh ({dec[hi]}, {_rate_text(rate[hi])} kWh/m³)")
        text = (f"{volume:g} hm³ more for {result.user} in one decade changes the energy of this season and next "
                f"winter{mean} " + "; ".join(parts) + ".")
    return (text + " In exchange.csv energy changes are signed (a loss is negative). A cubic metre through the turbines at about 20 m "
            "of head makes about 0.05 kWh; a larger rate is the head the missing water takes from all the other water. "
            "The 1 kWh per m³ of the 2021 Kyrgyz deal (DATA.md) is an indication from a deal, not a target.")
