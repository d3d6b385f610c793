"""Checks of the ``[exchange]`` and ``[prices]`` tables (the `bakhri exchange` study's settings).

``[exchange]`` says how the winter after the season is operated (sim.studies.exchange.WinterRule);
``[prices]`` turns energy into money. Both are optional; `bakhri run` and `bakhri sweep` ignore them.
"""

from __future__ import annotations

from sim.scenario.keys import EXCHANGE_KEYS, PRICES_KEYS, bound

__all__ = ["check_exchange", "check_prices"]


def check_exchange(ck):
    """Check ``[exchange]``: the winter's end level (inside the level–storage table), minimum release and
    approach days."""
    if "exchange" not in ck.data:
        return
    t = ck.table("exchange", ck.data["exchange"], EXCHANGE_KEYS)
    if t is None:
        return
    out = {}
    for k in EXCHANGE_KEYS:
        if k in t and ck.number(f"exchange.{k}", t[k], bound("exchange", k)) is not None:
            out[k] = t[k]
    level = out.get("winter_end_level_m")
    hyps = getattr(ck.c, "hypsometry", None)
    if level is not None and hyps is not None and not hyps.min_level_m <= float(level) <= hyps.max_level_m:
        ck.add("exchange.winter_end_level_m", f"found {level:g}; expected a level within the hypsometry table "
               f"({hyps.min_level_m:g}–{hyps.max_level_m:g} m)")
    ck.out["exchange"] = {k: t[k] for k in EXCHANGE_KEYS if k in t}


def check_prices(ck):
    """Check ``[prices]``: both prices, or neither table."""
    if "prices" not in ck.data:
        return
    t = ck.table("prices", ck.data["prices"], PRICES_KEYS)
    if t is None:
        return
    for k in PRICES_KEYS:
        if k not in t:
            ck.add(f"prices.{k}", "missing; expected a price in USD/MWh (both prices, summer and winter, or no [prices])")
        else:
            ck.number(f"prices.{k}", t[k], bound("prices", k))
    ck.out["prices"] = {k: t[k] for k in PRICES_KEYS if k in t}
