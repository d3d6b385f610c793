"""Operating rules: what decides each day's release, and the limits every regime shares.

Each built-in rule is one module that registers itself (sim.rules.base.register); importing
this package registers them, in the order of the compiled dispatch.
"""

from sim.rules import demand, level, power, schedule  # each registers its rule on import
from sim.rules.base import BINDING, BINDING_CODE, RULES, Param, Rule, register, rule_names, unregister

__all__ = [
    "BINDING", "BINDING_CODE", "RULES", "Param", "Rule", "register", "rule_names", "unregister",
    "demand", "level", "power", "schedule",
]
