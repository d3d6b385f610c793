"""Everything about ``[regimes.*]``: each rule's keys, their checks, and the mapping of overrides onto `Regime`.

The rest of the scenario package calls three things: `check_regimes` (during the checks),
`build_regimes` (in `Scenario.build`) and `RULE_KEYS` / `REGIME_COMMON` (the keys).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.inputs import series
from sim.physics.ranges import (
    ANY,
    APPROACH_DAYS,
    Bound,
    FACTOR,
    FLOW,
    FLOW_POSITIVE,
    FRACTION,
    number_text,
    POWER,
)
from sim.scenario.errors import describe_value, is_number, join_key, quoted, unknown_name
from sim.scenario.keys import FLOW_FORMS, FORM_OPTIONS, NAME_RE


#: Keys every regime takes, whatever its rule.
REGIME_COMMON = (
    "rule", "description", "min_release_m3s", "max_release_m3s", "max_change_m3s_day", "initial_release_m3s",
)  # fmt: skip
#: Keys each rule takes besides the common ones (rule, description and the release limits).
RULE_KEYS = {
    "demand": ("hedging", "scale"),
    "level": ("target_level_m", "approach_days"),
    "power": ("target_mw",),
    "schedule": FLOW_FORMS + FORM_OPTIONS + ("scale",),
}
#: Regime names that would collide with what `bakhri run` writes next to the regime folders.
RESERVED_REGIME_NAMES = ("plots",)


@dataclass
class RegimeSpec:
    """A checked regime: its rule, `Regime` parameters and release limits, and a one-line
    description for ``bakhri show``."""

    name: str
    rule: str
    params: dict
    limits: dict
    describe: str


def check_regimes(ck):
    """Check ``[regimes.*]`` (and the ``[scenario] regimes`` selection) into ``ck``."""
    raw = ck.data.get("regimes")
    if raw is None:
        ck.add("regimes", 'missing; expected at least one regime, e.g. [regimes.irrigation-first] with rule = "demand"')
        return
    if not isinstance(raw, dict):
        ck.add("regimes", f"found {describe_value(raw)}; expected tables [regimes.<name>]")
        return
    names = list(raw)
    if ck.regime_selection is not None:
        for n in ck.regime_selection:
            if n not in raw:
                ck.add("scenario.regimes", unknown_name("a regime of this scenario", n, names))
        names = [n for n in ck.regime_selection if n in raw]
        if len(names) < len(ck.regime_selection):
            return
    if not names:
        ck.add("regimes", 'no regime given; expected at least one, e.g. [regimes.irrigation-first] with rule = "demand"')
        return
    out = {}
    for name in names:
        path = join_key("regimes", name)
        if not NAME_RE.match(name):
            ck.add(path, "regime names must be plain: lower-case letters, digits, - and _")
            continue
        if name in RESERVED_REGIME_NAMES:
            ck.add(path, f'the name "{name}" is taken by the {name}/ folder of the outputs; expected another regime name')
            continue
        out[name] = check_regime(ck, path, name, raw[name])
    ck.out["regimes"] = out


def check_regime(ck, path: str, name: str, t) -> Any:
    """Check one regime table; a valid one is compiled into ``ck.c.regimes``, its numeric
    keys into ``ck.c.sweepable``. Returns the resolved table."""
    if not isinstance(t, dict):
        ck.add(path, f"found {describe_value(t)}; expected a table with a rule")
        return t
    rule = t.get("rule")
    rules = sorted(RULE_KEYS)
    if rule is None:
        ck.add(f"{path}.rule", f"missing; expected one of {quoted(rules)}")
        return dict(t)
    if not isinstance(rule, str):
        ck.add(f"{path}.rule", f"found {describe_value(rule)}; expected one of {quoted(rules)}")
        return dict(t)
    if rule not in RULE_KEYS:
        ck.add(f"{path}.rule", unknown_name("a rule", rule, rules))
        return dict(t)
    allowed = REGIME_COMMON + RULE_KEYS[rule]
    for k in t:
        if k not in allowed:
            others = [r for r in rules if k in RULE_KEYS[r]]
            if others:
                ck.add(join_key(path, k), f'not used by rule "{rule}" (it is a key of rule {quoted(others)})')
            else:
                ck.unknown_key(join_key(path, k), k, allowed)
    out = dict(t)
    out.setdefault("min_release_m3s", 0.0)
    ok = all(k in allowed for k in t)
    if "description" in t:
        ck.string(f"{path}.description", t["description"])
    limits = {}
    limit_bounds = (("min_release_m3s", FLOW), ("max_release_m3s", FLOW),
                    ("max_change_m3s_day", dataclasses.replace(FLOW_POSITIVE, unit="m³/s per day")),
                    ("initial_release_m3s", FLOW))  # fmt: skip
    for k, b in limit_bounds:
        if k in out:
            v = ck.number(f"{path}.{k}", out[k], b)
            if v is None:
                ok = False
            else:
                limits[k] = float(v)
    if "max_release_m3s" in limits and limits["max_release_m3s"] < limits["min_release_m3s"]:
        ck.add(f"{path}.max_release_m3s", f"{number_text(out['max_release_m3s'])} is below min_release_m3s {number_text(out['min_release_m3s'])}")
        ok = False
    sw = {f"{path}.{k}": b for k, b in limit_bounds}
    params: dict = {}
    describe = rule
    if rule in ("schedule", "demand"):
        out.setdefault("scale", 1.0)
        if ck.number(f"{path}.scale", out["scale"], FACTOR) is None:
            ok = False
        else:
            params["scale"] = float(out["scale"])
            sw[f"{path}.scale"] = FACTOR
    if rule == "schedule":
        got = ck.flow_form(path, t, FLOW_FORMS, None, what="schedule")
        if got is None:
            ok = False
        else:
            form, params["release_m3s"] = got
            describe = f"schedule ({form})"
            if form == "constant_m3s":
                sw[f"{path}.constant_m3s"] = FLOW
    elif rule == "demand":
        describe = "release what downstream needs"
        if "hedging" in t:
            h = ck.table(f"{path}.hedging", t["hedging"], ("trigger_level_m", "factor"))
            if h is None:
                ok = False
            else:
                trig = fac = None
                for k in ("trigger_level_m", "factor"):
                    if k not in h:
                        ck.add(f"{path}.hedging.{k}", "missing; hedging needs trigger_level_m and factor")
                        ok = False
                if "trigger_level_m" in h:
                    trig = ck.number(f"{path}.hedging.trigger_level_m", h["trigger_level_m"], level_bound(ck))
                if "factor" in h:
                    fac = ck.number(f"{path}.hedging.factor", h["factor"], FRACTION)
                if trig is None or fac is None:
                    ok = False
                else:
                    params["hedging_trigger_level_m"] = float(trig)
                    params["hedging_factor"] = float(fac)
                    describe += f"; × {number_text(fac)} below {number_text(trig)} m (hedging)"
                    sw[f"{path}.hedging.factor"] = FRACTION
                    sw[f"{path}.hedging.trigger_level_m"] = level_bound(ck)
    elif rule == "power":
        if "target_mw" not in t:
            ck.add(f"{path}.target_mw", "missing; expected a number or a series table, e.g. { monthly = [...] }")
            ok = False
        else:
            v = ck.value_series(f"{path}.target_mw", t["target_mw"], bound=POWER)
            if v is None:
                ok = False
            else:
                params["target_mw"] = v
                describe = f"generate {number_text(t['target_mw'])} MW" if is_number(t["target_mw"]) else "generate a power target"
                if is_number(t["target_mw"]) or (isinstance(t["target_mw"], dict) and "constant" in t["target_mw"]):
                    sw[f"{path}.target_mw"] = POWER
    elif rule == "level":
        from sim.rules.level import MIN_APPROACH_DAYS, check_level_rule

        out.setdefault("approach_days", 1)
        if ck.number(f"{path}.approach_days", out["approach_days"], APPROACH_DAYS) is None:
            ok = False
        elif check_level_rule(out["approach_days"]):
            ck.add(f"{path}.approach_days", "; ".join(check_level_rule(out["approach_days"])))
            ok = False
        else:
            params["approach_days"] = float(out["approach_days"])
            sw[f"{path}.approach_days"] = Bound(MIN_APPROACH_DAYS, APPROACH_DAYS.hi, unit="days")
        if "target_level_m" not in t:
            ck.add(f"{path}.target_level_m", 'missing; expected a level or a guide curve { "04-01" = 346.0, ... }')
            ok = False
        else:
            v = guide(ck, f"{path}.target_level_m", t["target_level_m"])
            if v is None:
                ok = False
            else:
                params["target_level_m"] = v
                describe = "follow a guide curve" if isinstance(t["target_level_m"], dict) else f"hold {number_text(t['target_level_m'])} m"
                if is_number(t["target_level_m"]):
                    sw[f"{path}.target_level_m"] = level_bound(ck)
    if ok and ck.period is not None:
        from sim.rules.regimes import Regime

        try:
            Regime(rule, dict(params), name=name, **limits)
        except ValueError as err:
            ck.add(path, str(err))
            return out
        ck.c.regimes[name] = RegimeSpec(name, rule, params, limits, describe)
        ck.c.sweepable.update(sw)
    return out


def level_bound(ck) -> Bound:
    """Levels of the reservoir's hypsometry table (any number before it is known)."""
    h = ck.c.hypsometry
    return Bound(h.min_level_m, h.max_level_m) if h is not None else ANY


def guide(ck, path: str, value):
    """A target level: a number or a guide curve ``{ "MM-DD" = level }`` → daily levels."""
    b = level_bound(ck)
    if is_number(value):
        if ck.number(path, value, b) is None or ck.period is None:
            return None
        return np.full(ck.period.n_days, float(value))
    if not isinstance(value, dict):
        ck.add(path, f'found {describe_value(value)}; expected a level or a guide curve {{ "04-01" = 346.0, ... }}')
        return None
    ok = True
    for k, v in value.items():
        if is_number(v) and not b.ok(float(v)):
            ck.add(f'{path}."{k}"', f"found {number_text(v)}; expected {b.expected()} (the hypsometry table)")
            ok = False
    if not ok or ck.period is None:
        return None
    try:
        return series.guide_curve(value, ck.period)
    except series.SeriesError as err:
        ck.add(path, str(err))
        return None


#: Dotted key (after ``regimes.<name>.``) → the `Regime` parameter it overrides; any other
#: key is a release limit of the same name. Series keys take shape ``(1, n_members)``.
_PARAM_OF = {
    "hedging.factor": "hedging_factor", "hedging.trigger_level_m": "hedging_trigger_level_m",
    "scale": "scale", "approach_days": "approach_days",
}  # fmt: skip
_SERIES_OF = {"target_mw": "target_mw", "target_level_m": "target_level_m", "constant_m3s": "release_m3s"}


def build_regimes(specs: dict, ov: dict) -> dict:
    """The engine's `Regime` of each checked regime (``specs``: name → `RegimeSpec`, in run
    order), with the ``regimes.<name>.<key>`` entries of ``ov`` (dotted path → one value per
    member, already checked) applied."""
    from sim.rules.regimes import Regime

    regimes = {}
    for name, spec in specs.items():
        prefix = f"regimes.{name}."
        params = dict(spec.params)
        limits = dict(spec.limits)
        for path, values in ov.items():
            if not path.startswith(prefix):
                continue
            key = path[len(prefix):]
            if key in _PARAM_OF:
                params[_PARAM_OF[key]] = values
            elif key in _SERIES_OF:
                params[_SERIES_OF[key]] = values[None, :]
            else:
                limits[key] = values
        regimes[name] = Regime(spec.rule, params, name=name, **limits)
    return regimes
