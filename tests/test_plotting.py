"""Tests of sim.plotting: every plot has a title, unit-bearing labels, and ensemble bands."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import re

import matplotlib

matplotlib.use("Agg", force=True)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim import builtin, calendar, plotting, simulate  # noqa: E402
from sim.demand import User  # noqa: E402
from sim.regimes import Regime  # noqa: E402

LIMITS = {"min": 340.5, "normal": 347.5, "max": 349.0}
UNIT = re.compile(r"\[[^\]]+\]")


def _model(n_members=1):
    period = calendar.growing_season(2025)
    base = builtin.baseline_demand_m3s(period)
    kaz = np.zeros(period.n_days)
    d = period.dates
    window = (d >= np.datetime64("2025-06-01")) & (d <= np.datetime64("2025-08-31"))
    kaz[window] = 491e6 / (window.sum() * 86_400.0)
    users = (User("uzbekistan-tajikistan", base * 0.8, priority=1), User("kazakhstan-protocol", kaz, priority=2))
    kw = {"inflow_scale": np.linspace(0.6, 1.4, n_members)} if n_members > 1 else {}
    return builtin.model(period, users=users, **kw)


REGIMES = (
    Regime("demand", min_release_m3s=150, name="irrigation-first"),
    Regime("power", params={"target_mw": 120}, name="energy-first"),
)


@pytest.fixture(scope="module")
def single():
    m = _model()
    return {r.name: simulate(m, r) for r in REGIMES}


@pytest.fixture(scope="module")
def ensemble():
    m = _model(12)
    return {r.name: simulate(m, r) for r in REGIMES}


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _check_axes(ax):
    assert isinstance(ax, Axes)
    assert ax.get_title(loc="center") or ax.get_title(loc="left")
    assert UNIT.search(ax.get_ylabel()), ax.get_ylabel()
    xlabel = ax.get_xlabel()
    assert xlabel.strip(), "x axis has no label"


def _has_bands(ax):
    return any(isinstance(c, PolyCollection) for c in ax.collections)


# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "column, label",
    [
        ("energy_gwh", "Energy [GWh]"),
        ("deficit_hm3", "Deficit [hm³]"),
        ("level_end_m", "End level [m a.s.l.]"),
        ("inflow.scale", "Inflow scale [-]"),
        ("reliability_volume", "Volumetric reliability [-]"),
        ("release_m3s", "Release [m³/s]"),
        ("power_mw", "Power [MW]"),
        ("head_m", "Head [m]"),
        ("spill_days", "Spill days [d]"),
        ("regimes.irrigation-first.hedging.factor", "Hedging factor (irrigation-first) [-]"),
        ("regimes.energy-first.target_mw", "Target power (energy-first) [MW]"),
        ("reservoir.initial_level_m", "Initial level [m a.s.l.]"),
    ],
)
def test_label_for(column, label):
    assert plotting.label_for(column) == label


def test_decade_means_groups_by_calendar_decade():
    period = calendar.growing_season(2025)
    values = np.arange(period.n_days, dtype=float)
    starts, means = plotting.decade_means(period.dates, values)
    assert len(starts) == len(period.decades()) == 18
    assert str(starts[0]) == "2025-04-01" and str(starts[2]) == "2025-04-21"
    assert means[0] == pytest.approx(4.5)  # days 0..9
    assert means[2] == pytest.approx(np.mean(np.arange(20, 30)))  # Apr III has 10 days
    assert means[5] == pytest.approx(np.mean(np.arange(50, 61)))  # May III has 11 days
    two = np.column_stack([values, 2 * values])
    _, m2 = plotting.decade_means(period.dates, two)
    assert m2.shape == (18, 2)
    np.testing.assert_allclose(m2[:, 1], 2 * means)


def test_colours_are_consistent_and_colour_blind_safe(single):
    ax1 = plotting.plot_release(single, LIMITS and None)
    ax2 = plotting.plot_level(single, limits=LIMITS)
    c1 = {l.get_label(): l.get_color() for l in ax1.get_lines()}
    c2 = {l.get_label(): l.get_color() for l in ax2.get_lines()}
    for name in single:
        assert c1[name] == c2[name] == plotting.regime_colors(single)[name]
    assert plotting.PALETTE[0] == "#0072B2"  # Okabe–Ito


@pytest.mark.parametrize("given", [False, True])
def test_time_series_plots(single, given):
    for fn, kwargs in (
        (plotting.plot_release, {}),
        (plotting.plot_level, {"limits": LIMITS}),
        (plotting.plot_power, {}),
        (plotting.plot_deficits, {}),
        (plotting.plot_energy, {}),
    ):
        ax_in = plt.subplots()[1] if given else None
        ax = fn(single, ax=ax_in, **kwargs)
        _check_axes(ax)
        if given:
            assert ax is ax_in
    ax = plotting.plot_supply_deficit(single["energy-first"], ax=plt.subplots()[1] if given else None)
    _check_axes(ax)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("kazakhstan-protocol" in t for t in labels) and any("Deficit" in t for t in labels)


def test_release_includes_demand_and_power_has_energy_axis(single):
    ax = plotting.plot_release(single)
    assert "Total downstream demand" in [l.get_label() for l in ax.get_lines()]
    ax = plotting.plot_power(single)
    assert ax.energy_ax is not None and UNIT.search(ax.energy_ax.get_ylabel())
    assert "GWh" in ax.energy_ax.get_ylabel()


def test_level_draws_limits_and_guide_curves(single):
    n = next(iter(single.values())).n_steps
    guide = {"irrigation-first": np.linspace(346.0, 342.0, n)}
    ax = plotting.plot_level(single, limits=LIMITS, guide_curves=guide)
    ys = {round(l.get_ydata()[0], 3) for l in ax.get_lines() if len(l.get_ydata()) == 2}
    assert {340.5, 347.5, 349.0} <= ys
    assert any("guide curve" in l.get_label() for l in ax.get_lines())


def test_single_member_draws_no_bands(single):
    ax = plotting.plot_release(single)
    assert not _has_bands(ax)


@pytest.mark.parametrize(
    "fn, kwargs",
    [(plotting.plot_release, {}), (plotting.plot_level, {"limits": LIMITS}), (plotting.plot_power, {})],
)
def test_ensemble_bands(ensemble, fn, kwargs):
    ax = fn(ensemble, **kwargs)
    assert _has_bands(ax)
    assert any("(median)" in l.get_label() for l in ax.get_lines())
    one = fn({"irrigation-first": ensemble["irrigation-first"]}, **kwargs)
    assert sum(isinstance(c, PolyCollection) for c in one.collections) >= 2  # 10–90 and 25–75


def test_comparison_is_one_page(single, ensemble):
    for res in (single, ensemble):
        fig = plotting.plot_comparison(res, title="Protocol 2025", limits=LIMITS, footnote="Source: test")
        assert isinstance(fig, Figure)
        w, h = fig.get_size_inches()
        assert w == pytest.approx(11.69) and h == pytest.approx(8.27)  # A4 landscape
        axes = [a for a in fig.axes if a.axison]
        assert len(axes) >= 4
        for ax in axes:
            if ax.get_ylabel():
                assert UNIT.search(ax.get_ylabel())
            assert ax.get_title(loc="left") or ax.get_title()
        texts = [t.get_text() for t in fig.texts]
        assert "Protocol 2025" in texts and any("Source: test" in t for t in texts)
        assert fig.legends
        fig.canvas.draw()  # layout and table render without error


def _sweep_table():
    rng = np.random.default_rng(1)
    scale = np.repeat([0.6, 0.8, 1.0, 1.2, 1.4], 6)
    factor = np.tile([0.5, 0.6, 0.7, 0.8, 0.9, 1.0], 5)
    n = scale.size
    rows = {
        "regime": np.array(["irrigation-first"] * n + ["energy-first"] * n),
        "member": np.concatenate([np.arange(n)] * 2),
        "inflow.scale": np.concatenate([scale] * 2),
        "regimes.irrigation-first.hedging.factor": np.concatenate([factor] * 2),
    }
    rows["energy_gwh"] = 300 * rows["inflow.scale"] + rng.normal(0, 5, 2 * n)
    rows["deficit_hm3"] = np.maximum(0, 800 * (1.1 - rows["inflow.scale"]) * rows["regimes.irrigation-first.hedging.factor"])
    rows["reliability_volume"] = np.clip(0.6 + 0.35 * rows["inflow.scale"] - 0.1 * rows["regimes.irrigation-first.hedging.factor"], 0, 1)
    return rows


@pytest.mark.parametrize("given", [False, True])
def test_sweep_plots(given):
    t = _sweep_table()
    new = (lambda: plt.subplots()[1]) if given else (lambda: None)
    ax = plotting.plot_sweep_heatmap(t, "inflow.scale", "regimes.irrigation-first.hedging.factor", "energy_gwh",
                                     regime="irrigation-first", ax=new())
    _check_axes(ax)
    assert "[-]" in ax.get_xlabel() and "[-]" in ax.get_ylabel()
    cbar_labels = [a.get_ylabel() for a in ax.figure.axes if a is not ax]
    assert any("Energy [GWh]" in s for s in cbar_labels)
    ax = plotting.plot_tradeoff(t, ax=new())
    _check_axes(ax)
    assert "Deficit [hm³]" in ax.get_xlabel() and "Energy [GWh]" in ax.get_ylabel()
    assert any("Pareto" in l.get_label() for l in ax.get_lines())
    ax = plotting.plot_exceedance({"a": t["energy_gwh"][:30], "b": t["energy_gwh"][30:]}, ax=new(),
                                  xlabel="Energy [GWh]")
    _check_axes(ax)
    ax = plotting.plot_failure_ranges(t, ["inflow.scale", "regimes.irrigation-first.hedging.factor"], ax=new())
    _check_axes(ax)


def test_heatmap_needs_regime_when_several():
    with pytest.raises(ValueError, match="pass regime="):
        plotting.plot_sweep_heatmap(_sweep_table(), "inflow.scale", "regimes.irrigation-first.hedging.factor",
                                    "energy_gwh")


def test_heatmap_means_over_other_parameters():
    t = {"a": np.array([1.0, 1.0, 2.0, 2.0]), "b": np.array([5.0, 5.0, 5.0, 6.0]), "energy_gwh": np.array([1, 3, 5, 7.0])}
    ax = plotting.plot_sweep_heatmap(t, "a", "b", "energy_gwh", annotate=True)
    texts = sorted(x.get_text() for x in ax.texts)
    assert texts == ["2", "5", "7"]


def test_pareto_front():
    x = np.array([0.0, 1.0, 1.0, 2.0, 3.0])
    y = np.array([1.0, 2.0, 1.5, 2.0, 3.0])
    assert list(plotting.pareto_front(x, y, "min", "max")) == [0, 1, 4]


def test_exceedance_uses_weibull_positions():
    ax = plotting.plot_exceedance({"x": [3.0, 1.0, 2.0]}, xlabel="Energy [GWh]")
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), [3.0, 2.0, 1.0])
    np.testing.assert_allclose(line.get_ydata(), [0.25, 0.5, 0.75])


def test_failure_ranges_shares():
    t = {"regime": np.array(["r"] * 4), "p": np.array([1.0, 1.0, 2.0, 2.0]),
         "reliability_volume": np.array([0.5, 0.95, 0.95, 0.99])}
    ax = plotting.plot_failure_ranges(t, ["p"], threshold=0.9)
    heights = [p.get_height() for p in ax.patches]
    assert heights == [0.5, 0.0]


def test_save_all_writes_pngs(single, tmp_path):
    before = set(plt.get_fignums())
    paths = plotting.save_all(single, tmp_path, limits=LIMITS, title="Protocol 2025")
    names = sorted(p.name for p in paths)
    assert names == sorted(["release.png", "level.png", "power.png", "comparison.png",
                            "supply_deficit_irrigation-first.png", "supply_deficit_energy-first.png"])
    for p in paths:
        assert p.parent == tmp_path / "plots"
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > 10_000
    assert set(plt.get_fignums()) == before  # figures closed


@pytest.mark.parametrize("words", [3, 40, 400])
def test_comparison_header_never_overlaps(single, ensemble, words):
    question = "\n" + " ".join(["Does the long question wrap\nwithout covering the legend?"] * words)
    for res in (single, ensemble):
        fig = plotting.plot_comparison(res, title="Protocol 2025", limits=LIMITS, question=question,
                                       footnote="Source: test")
        for dpi in (100, 110, 150, 300):  # the CLI saves at 150, the README copy at ~110, print at 300
            fig.set_dpi(dpi)
            fig.canvas.draw()
            _check_header(fig, question, words)
        plt.close(fig)


def _check_header(fig, question, words):
    """Title, question, run line, legend, panels and notes are stacked without overlap."""
    renderer = fig.canvas.get_renderer()
    boxes = {t.get_gid(): t.get_window_extent(renderer) for t in fig.texts if t.get_gid()}
    q, title, run = boxes["comparison-question"], boxes["comparison-title"], boxes["comparison-run"]
    legend = fig.legends[0].get_window_extent(renderer)
    text = next(t for t in fig.texts if t.get_gid() == "comparison-question").get_text()
    assert text.count("\n") <= 2  # at most three lines
    if words == 400:
        assert text.endswith("…")
    width = fig.bbox.width
    for box in (q, title, run, legend):
        assert box.x0 >= 0 and box.x1 <= width  # inside the page
    assert not q.overlaps(legend) and not q.overlaps(title) and not run.overlaps(legend)
    assert q.y0 >= run.y1 - 1 and run.y0 >= legend.y1 - 1  # stacked top to bottom
    panels = [a for a in fig.axes if a.axison]
    for ax in panels:
        assert not ax.get_tightbbox(renderer).overlaps(legend)
    notes = boxes["comparison-notes"]
    for ax in fig.axes:
        assert ax.get_tightbbox(renderer).y0 >= notes.y1 - 1


def test_release_and_deficit_plots_compare_the_dam_with_downstream_users_only():
    # Totals count users at the reservoir (pumps) too; the dam's release serves only the
    # users downstream, so the release plot's demand and the deficit bars are theirs.
    period = calendar.Period(np.datetime64("2025-06-01").item(), np.datetime64("2025-06-30").item())
    users = (User("down", np.full(30, 700.0)), User("pump", np.full(30, 40.0), location="reservoir"))
    model = builtin.model(period, users=users, initial_storage_m3=20e6, inflow_scale=0.0)  # the pump runs dry
    result = simulate(model, Regime("schedule", params={"release_m3s": np.full(30, 300.0)}, name="short"))
    assert np.all(result.daily["demand_m3s"] == 740.0)  # the total: both users
    assert result.user_metrics["pump"]["deficit_hm3"][0] > 0
    ax = plotting.plot_release(result)
    (line,) = [l for l in ax.get_lines() if l.get_label() == "Total downstream demand"]
    np.testing.assert_allclose(line.get_ydata(), 700.0)
    ax = plotting.plot_deficits(result)
    heights = sum(p.get_height() for p in ax.patches)
    down = result.user_daily["down"]
    np.testing.assert_allclose(heights, np.sum(700.0 - down["supply_m3s"]) * 0.0864, rtol=1e-12)
