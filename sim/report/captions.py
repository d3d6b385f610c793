"""Captions of the plots of a scenario: title, question, operating limits, guide curves and
the data-source footnote."""

from __future__ import annotations

import numpy as np

from sim.rules.base import GUIDE, RULES

#: Where the numbers behind every plot come from (DATA.md): the built-in presets; the
#: hypsometry and tailwater tables are placeholders until survey data replace them.
DATA_SOURCES = ("Data: built-in Bakhri Tojik presets (DATA.md); hypsometry and tailwater are DERIVED/GUESS "
                "placeholders.")


def plot_kwargs(scenario, model=None, regimes=None) -> dict:
    """Keyword arguments for `sim.plotting.save_all` / `plot_comparison` / `plot_level`.

    ``limits`` (minimum, normal and maximum levels [m a.s.l.]), ``title``, ``question``
    (the file's description), a data-source ``footnote``, and ``guide_curves``: the daily
    target level of every ``level`` regime [m a.s.l.], shape ``(n_steps,)``. ``model`` and
    ``regimes`` are those of ``scenario.build()`` (built when not given).
    """
    from sim import __version__

    if model is None or regimes is None:
        model, regimes = scenario.build()
    r = model.reservoir
    limits = {"min": float(np.min(r.min_level_m)), "normal": float(np.min(r.normal_level_m)),
              "max": float(np.min(r.max_level_m))}
    n = scenario.period.n_days
    guide = {}
    for name, reg in regimes.items():
        curves = [p.name for p in RULES[reg.rule].params if p.kind == GUIDE] if reg.rule in RULES else []
        if curves:  # a rule that follows a guide curve (the level rule): draw it on the level plot
            target = np.asarray(reg.params[curves[0]], dtype=float)
            column = target.reshape(target.shape[0], -1)[:, 0] if target.ndim else target.reshape(1)
            guide[name] = np.broadcast_to(column, (n,)).copy() if column.size in (1, n) else column[:n].copy()
    footnote = f"{DATA_SOURCES} Tool: bakhri {__version__}"
    return {"limits": limits, "title": scenario.title or scenario.name, "footnote": footnote,
            "guide_curves": guide or None, "question": scenario.description or None}
