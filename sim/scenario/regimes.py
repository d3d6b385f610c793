"""Everything about ``[regimes.*]``: the keys every regime shares, and each rule's keys, checks
and overrides as its module in the rule registry (sim.rules) declares them.

The rest of the scenario package calls three things: `check_regimes` (during the checks),
`build_regimes` (in `Scenario.build`) and `RULE_KEYS` / `REGIME_COMMON` (the keys). Nothing
here names a rule's parameters: a rule registered anywhere gets its keys read, checked,
described and swept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.inputs import series
from sim.physics.ranges import ANY, FLOW, FLOW_POSITIVE, Bound, number_text
from sim.rules.base import FLOW_SERIES, GUIDE, NUMBER, RESERVOIR_LEVELS, RULES, SERIES
from sim.scenario.errors import describe_value, is_number, join_key, quoted, unknown_name
from sim.scenario.keys import FLOW_FORMS, FORM_OPTIONS, NAME_RE

#: Keys every regime takes, whatever its rule.
REGIME_COMMON = (
    "rule", "description", "min_release_m3s", "max_release_m3s", "max_change_m3s_day", "initial_release_m3s",
)  # fmt: skip


def rule_keys(rule) -> tuple:
    """Keys of a registered rule in ``[regimes.<name>]`` besides the common ones: each
    parameter's key (a sub-table once for a group; the flow forms for a flow series)."""
    keys = []
    for p in rule.params:
        if p.kind == FLOW_SERIES:
            keys += FLOW_FORMS + FORM_OPTIONS
        else:
            keys.append(p.group or p.key)
    return tuple(dict.fromkeys(keys))


class _RuleKeys(Mapping):
    """Rule name → its keys (`rule_keys`), read from the registry on each access."""

    def __getitem__(self, name):
        return rule_keys(RULES[name])

    def __iter__(self):
        return iter(RULES)

    def __len__(self):
        return len(RULES)


#: Keys each registered rule takes besides the common ones (rule, description and the release limits).
RULE_KEYS = _RuleKeys()
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


#: The release limits every regime takes, with their bounds.
_LIMIT_BOUNDS = (("min_release_m3s", FLOW), ("max_release_m3s", FLOW),
                 ("max_change_m3s_day", dataclasses.replace(FLOW_POSITIVE, unit="m³/s per day")),
                 ("initial_release_m3s", FLOW))  # fmt: skip


def check_regime(ck, path: str, name: str, t) -> Any:
    """Check one regime table; a valid one is compiled into ``ck.c.regimes``, its numeric
    keys into ``ck.c.sweepable``. Returns the resolved table."""
    if not isinstance(t, dict):
        ck.add(path, f"found {describe_value(t)}; expected a table with a rule")
        return t
    rule = _regime_rule(ck, path, t)
    if rule is None:
        return dict(t)
    allowed = REGIME_COMMON + RULE_KEYS[rule]
    _check_rule_keys(ck, path, t, rule, allowed)
    out = dict(t)
    out.setdefault("min_release_m3s", 0.0)
    ok = all(k in allowed for k in t)
    if "description" in t:
        ck.string(f"{path}.description", t["description"])
    limits = _release_limits(ck, path, out)
    sw = {f"{path}.{k}": b for k, b in _LIMIT_BOUNDS}
    spec = RULES[rule]
    got = _rule_params(ck, path, t, out, spec, sw)
    if not ok or limits is None or got is None or ck.period is None:
        return out
    params, given = got
    from sim.rules.regimes import Regime

    try:
        Regime(rule, dict(params), name=name, **limits)
    except ValueError as err:
        ck.add(path, str(err))
        return out
    ck.c.regimes[name] = RegimeSpec(name, rule, params, limits, spec.describe_params(given))
    ck.c.sweepable.update(sw)
    return out


def _regime_rule(ck, path: str, t: dict) -> str | None:
    """The regime's registered rule, or None after saying it is missing or not one."""
    rule = t.get("rule")
    rules = sorted(RULE_KEYS)
    if rule is None:
        ck.add(f"{path}.rule", f"missing; expected one of {quoted(rules)}")
        return None
    if not isinstance(rule, str):
        ck.add(f"{path}.rule", f"found {describe_value(rule)}; expected one of {quoted(rules)}")
        return None
    if rule not in RULE_KEYS:
        ck.add(f"{path}.rule", unknown_name("a rule", rule, rules))
        return None
    return rule


def _check_rule_keys(ck, path: str, t: dict, rule: str, allowed: tuple) -> None:
    """Say so for each key the rule does not take, naming the rules that take it if any."""
    rules = sorted(RULE_KEYS)
    for k in t:
        if k not in allowed:
            others = [r for r in rules if k in RULE_KEYS[r]]
            if others:
                ck.add(join_key(path, k), f'not used by rule "{rule}" (it is a key of rule {quoted(others)})')
            else:
                ck.unknown_key(join_key(path, k), k, allowed)


def _release_limits(ck, path: str, out: dict) -> dict | None:
    """The release limits given (min, max, ramp, initial) → name → value, or None after saying why."""
    ok = True
    limits = {}
    for k, b in _LIMIT_BOUNDS:
        if k in out:
            v = ck.number(f"{path}.{k}", out[k], b)
            if v is None:
                ok = False
            else:
                limits[k] = float(v)
    lo, hi = limits.get("min_release_m3s"), limits.get("max_release_m3s")
    if lo is not None and hi is not None and hi < lo:  # (a wrong min or max is reported above)
        ck.add(f"{path}.max_release_m3s", f"{number_text(out['max_release_m3s'])} is below min_release_m3s {number_text(out['min_release_m3s'])}")
        ok = False
    return limits if ok else None


def _rule_params(ck, path: str, t: dict, out: dict, spec, sw: dict):
    """Check the rule's parameters, alone or in their sub-tables → (name → value, what the file gave
    for each), or None after saying why; their sweep bounds go into `sw`."""
    ok = True
    params: dict = {}
    given: dict = {}  # what the file gave for each parameter, for the description
    for group, members in _groups(spec):
        if group:
            got = _check_group(ck, path, t, group, members, params, sw)
        else:
            got = _check_param(ck, path, t, out, spec, members[0], params, sw)
        if got is None:
            ok = False
        else:
            given.update(got)
    return (params, given) if ok else None


def _groups(rule) -> list:
    """The rule's parameters as (group, [params]): a sub-table's keys together, in order."""
    out: list = []
    for p in rule.params:
        if p.group and out and out[-1][0] == p.group:
            out[-1][1].append(p)
        else:
            out.append((p.group, [p]))
    return out


def _bound(ck, b: Bound) -> Bound:
    return level_bound(ck) if b is RESERVOIR_LEVELS else b


def _missing(kind: str) -> str:
    return {
        SERIES: "missing; expected a number or a series table, e.g. { monthly = [...] }",
        GUIDE: 'missing; expected a level or a guide curve { "04-01" = 346.0, ... }',
    }.get(kind, "missing; expected a number")


def _check_param(ck, path: str, t: dict, out: dict, rule, p, params: dict, sw: dict) -> dict | None:
    """Check one parameter's key into ``params`` (and ``sw`` if sweepable); returns what the
    file gave for it (the form of a flow series), or None on a problem."""
    key = f"{path}.{p.key}"
    bound = _bound(ck, p.bound)
    sweep = _bound(ck, p.sweep_bound or p.bound)
    if p.kind == FLOW_SERIES:
        got = ck.flow_form(path, t, FLOW_FORMS, None, what=rule.name)
        if got is None:
            return None
        form, params[p.name] = got
        if p.sweepable and form == "constant_m3s":
            sw[f"{path}.{p.sweep_name}"] = sweep
        return {p.name: form}
    if p.default is not None:
        out.setdefault(p.key, p.default)
    if p.key not in out:
        ck.add(key, _missing(p.kind))
        return None
    raw = out[p.key]
    if p.kind == NUMBER:
        v = ck.number(key, raw, bound)
        if v is None:
            return None
        problems = [m for n, m in rule.check({**params, p.name: v}) if n == p.name]
        if problems:
            ck.add(key, "; ".join(problems))
            return None
        params[p.name] = float(v)
        constant = True
    elif p.kind == SERIES:
        v = ck.value_series(key, raw, bound=bound)
        if v is None:
            return None
        params[p.name] = v
        constant = is_number(raw) or (isinstance(raw, dict) and "constant" in raw)
    else:  # GUIDE
        v = guide(ck, key, raw)
        if v is None:
            return None
        params[p.name] = v
        constant = is_number(raw)
    if p.sweepable and constant:
        sw[f"{path}.{p.sweep_name}"] = sweep
    return {p.name: raw}


def _check_group(ck, path: str, t: dict, group: str, members: list, params: dict, sw: dict) -> dict | None:
    """Check a sub-table of numbers that come together (all or none), e.g. ``hedging``."""
    if group not in t:
        return {}
    subkeys = tuple(p.key.split(".", 1)[1] for p in members)
    h = ck.table(f"{path}.{group}", t[group], subkeys)
    if h is None:
        return None
    ok = True
    together = ", ".join(subkeys[:-1]) + " and " + subkeys[-1] if len(subkeys) > 1 else subkeys[0]
    for k in subkeys:
        if k not in h:
            ck.add(f"{path}.{group}.{k}", f"missing; {group} needs {together}")
            ok = False
    values = {}
    for p, k in zip(members, subkeys, strict=True):
        if k in h:
            values[p] = ck.number(f"{path}.{p.key}", h[k], _bound(ck, p.bound))
    if not ok or any(v is None for v in values.values()):
        return None
    for p, v in values.items():
        params[p.name] = float(v)
        if p.sweepable:
            sw[f"{path}.{p.sweep_name}"] = _bound(ck, p.sweep_bound or p.bound)
    return {p.name: v for p, v in values.items()}


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
        by_key = {p.sweep_name: p for p in RULES[spec.rule].params}
        for path, values in ov.items():
            if not path.startswith(prefix):
                continue
            key = path[len(prefix):]
            if key in by_key:  # a rule's parameter; a series takes shape (1, n_members)
                p = by_key[key]
                params[p.name] = values[None, :] if p.series else values
            else:  # a release limit of the same name
                limits[key] = values
        regimes[name] = Regime(spec.rule, params, name=name, **limits)
    return regimes
