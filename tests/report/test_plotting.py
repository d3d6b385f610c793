"""Tests of sim.report.plotting: every plot has a title, unit-bearing labels, and ensemble bands."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=True)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sim import builtin, simulate  # noqa: E402
from sim.physics import calendar
from sim.physics.demand import User  # noqa: E402
from sim.report import plotting, render, style
from sim.rules.regimes import Regime  # noqa: E402

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


# --------------------------------------------------------------------------------------
# Speed without a change of look: date ticks, text wrapping, the PNG writer
# --------------------------------------------------------------------------------------

import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import matplotlib.dates as mdates  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from PIL import Image  # noqa: E402

_DAY0 = float(mdates.date2num(np.datetime64("2020-01-01")))


@settings(max_examples=150, deadline=None)
@given(start=st.floats(0, 3000), span=st.floats(1, 1500))
def test_month_day_ticks_are_matplotlibs_date_ticks(start, span):
    """The numpy locators give MonthLocator's and DayLocator(bymonthday=[11, 21])'s ticks."""
    vmin, vmax = _DAY0 + start, _DAY0 + start + span
    for days, reference in (((1,), mdates.MonthLocator()), ((11, 21), mdates.DayLocator(bymonthday=[11, 21]))):
        ref = np.asarray(reference.tick_values(mdates.num2date(vmin), mdates.num2date(vmax)))
        ref = ref[(ref >= vmin - 1e-6) & (ref <= vmax + 1e-6)]  # the axis keeps the ticks inside the view
        got = style.MonthDayLocator(days).tick_values(vmin, vmax)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)  # datetime keeps microseconds only


@pytest.mark.parametrize("start, end, labels", [
    ("2025-04-01", "2025-10-01", ["Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct"]),
    ("2024-10-01", "2025-10-01", ["Oct", "Nov", "Dec", "Jan\n2025", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
                                  "Aug", "Sep", "Oct"]),
    ("2024-12-15", "2025-01-01", ["Jan"]),  # the last day's midnight does not start a second year
])
def test_month_labels_carry_the_year_only_across_years(start, end, labels):
    fig, ax = plt.subplots()
    ax.set_xlim(np.datetime64(start), np.datetime64(end))
    style.date_axis(ax)
    fig.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == labels


def _greedy_wrap(fig, text, width_frac, *, fontsize, fontweight="normal", max_lines=3):
    """The plain word-by-word greedy wrap that `_wrap_to_width` must reproduce."""
    limit = fig.bbox.width * width_frac * style.DPI_SAFETY
    fits = lambda s: style.text_width_px(fig, s, fontsize, fontweight) <= limit  # noqa: E731
    if not text.split():
        return []
    lines, current = [], ""
    for word in text.split():
        trial = f"{current} {word}" if current else word
        if fits(trial):
            current = trial
            continue
        if current:
            lines.append(current)
        pieces, current = style.break_word(word, fits)
        lines += pieces
    lines.append(current)
    return style.cut_lines(lines, max_lines, fits, "…")


_WORDS = ["the", "a", "of", "Kairakkum", "m³/s", "hm³", "(GUESS)", "2008", "irrigation-first", "Wmmmmmmmmmmmmmmmm",
          "iiiiiii", "Syr", "Darya", "—", "DERIVED:"]


@settings(max_examples=120, deadline=None)
@given(words=st.lists(st.sampled_from(_WORDS), max_size=60), width=st.sampled_from([2.0, 5.0, 11.69]),
       dpi=st.sampled_from([72, 100, 150]), fontsize=st.sampled_from([7, 9.5, 15]),
       fontweight=st.sampled_from(["normal", "bold"]), max_lines=st.sampled_from([2, 3, 50]))
def test_wrap_gives_the_word_by_word_greedy_lines(words, width, dpi, fontsize, fontweight, max_lines):
    fig = plt.figure(figsize=(width, 3), dpi=dpi)
    try:
        text = " ".join(words)
        kw = dict(fontsize=fontsize, fontweight=fontweight, max_lines=max_lines)
        assert style.wrap_to_width(fig, text, 0.98, **kw) == _greedy_wrap(fig, text, 0.98, **kw)
    finally:
        plt.close(fig)


def _pixels(path):
    return np.asarray(Image.open(path).convert("RGBA"))


def test_save_png_gives_savefigs_pixels(single, tmp_path):
    """One layout pass and a faster zlib level: the same image as a plain savefig."""
    for name, make in (("level.png", lambda: plotting.plot_level(single, limits=LIMITS, footnote="Source: test").figure),
                       ("comparison.png", lambda: plotting.plot_comparison(single, limits=LIMITS, question="Why?"))):
        make().savefig(tmp_path / f"plain-{name}", dpi=150)
        render.save_png(make(), tmp_path / name, 150)
        np.testing.assert_array_equal(_pixels(tmp_path / name), _pixels(tmp_path / f"plain-{name}"))


def _no_children_left():
    """No child process left by the plot writer, unreaped or running. The one child allowed
    is multiprocessing's resource tracker, which lives as long as the test process once any
    test has started it (a Dask cluster in the test process does); it is recognised on Linux only."""
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    if pid:  # a child had ended and nobody reaped it
        return False
    me = f"/proc/{os.getpid()}"
    try:
        children = {c for t in os.listdir(f"{me}/task") for c in Path(f"{me}/task/{t}/children").read_text().split()}
        return all("resource_tracker" in Path(f"/proc/{c}/cmdline").read_text() for c in children)
    except OSError:
        return False


@pytest.mark.skipif(not render.can_fork(), reason="needs os.fork")
def test_parallel_writer_gives_the_serial_files(single, tmp_path):
    serial = plotting.save_all(single, tmp_path / "serial", limits=LIMITS, title="T", footnote="Source: test",
                               workers=1)
    parallel = plotting.save_all(single, tmp_path / "parallel", limits=LIMITS, title="T", footnote="Source: test",
                                 workers=2)
    assert [p.name for p in parallel] == [p.name for p in serial]
    assert sorted(p.name for p in (tmp_path / "parallel" / "plots").iterdir()) == sorted(p.name for p in serial)
    for a, b in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(_pixels(a), _pixels(b))
    assert _no_children_left()


def test_writer_falls_back_to_serial_without_fork(single, tmp_path, monkeypatch):
    monkeypatch.delattr(os, "fork", raising=False)
    assert plotting.plot_workers(4, 8) == 1
    paths = plotting.save_all(single, tmp_path, limits=LIMITS, workers=4)
    assert all(p.exists() for p in paths) and len(paths) == 6


def test_plot_workers_reads_the_environment(monkeypatch):
    monkeypatch.setattr(render, "can_fork", lambda: True)
    monkeypatch.setenv(render.WORKERS_ENV, "3")
    assert plotting.plot_workers(None, 8) == 3
    assert plotting.plot_workers(None, 2) == 2  # never more processes than figures
    assert plotting.plot_workers(1, 8) == 1  # the argument wins
    monkeypatch.setenv(render.WORKERS_ENV, "many")
    with pytest.raises(ValueError, match="BAKHRI_PLOT_WORKERS is 'many'"):
        plotting.plot_workers(None, 8)


def _figure():
    fig, ax = plt.subplots(layout="constrained")
    ax.plot([0, 1], [0, 1])
    ax.set(title="t", xlabel="x [-]", ylabel="y [-]")
    return fig


@pytest.mark.skipif(not render.can_fork(), reason="needs os.fork")
def test_failed_child_share_is_rendered_here(tmp_path):
    parent = os.getpid()

    def only_here():
        if os.getpid() != parent:
            raise RuntimeError("fails in the child")
        return _figure()

    jobs = [("heavy.png", _figure, 2.0), ("light.png", only_here, 1.0)]
    paths = plotting.write_pngs(tmp_path, jobs, 50, workers=2)
    assert [p.name for p in paths] == ["heavy.png", "light.png"] and all(p.exists() for p in paths)
    assert _no_children_left()


@pytest.mark.skipif(not render.can_fork(), reason="needs os.fork")
@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError])
def test_no_process_left_behind_on_error_or_ctrl_c(tmp_path, error):
    def slow():  # the child's share: still running when the parent stops
        time.sleep(60)
        return _figure()

    def stop():
        raise error("stop")

    jobs = [("stop.png", stop, 2.0), ("slow.png", slow, 1.0)]
    t0 = time.perf_counter()
    with pytest.raises(error):
        plotting.write_pngs(tmp_path, jobs, 50, workers=2)
    assert time.perf_counter() - t0 < 30
    assert _no_children_left()
    assert not (tmp_path / "plots" / "slow.png").exists()


@pytest.mark.parametrize("dpi", [100, 150])
def test_cached_font_heights_give_matplotlibs_text_extents(dpi):
    from matplotlib.backends.backend_agg import RendererAgg

    fig = plt.figure(dpi=dpi)
    texts = [fig.text(0.1, 0.5, s, fontsize=size, fontweight=weight, linespacing=spacing)
             for s in ("Level [m a.s.l.]", "Energy\n[GWh]", "Jan\n2025\nx")
             for size in (7, 9.5, 15) for weight in ("normal", "bold") for spacing in (1.2, "normal")]
    plain, cached = RendererAgg(10, 10, dpi), RendererAgg(10, 10, dpi)
    render.FontHeights.attach(cached)
    for t in texts:
        assert t.get_window_extent(cached).bounds == t.get_window_extent(plain).bounds


@pytest.mark.skipif(not render.can_fork(), reason="needs os.fork")
def test_writer_renders_here_when_no_process_can_be_forked(tmp_path, monkeypatch):
    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    jobs = [(f"{i}.png", _figure, 1.0) for i in range(3)]
    paths = plotting.write_pngs(tmp_path, jobs, 50, workers=2)
    assert all(p.exists() for p in paths) and len(paths) == 3


_KILLED_PARENT = """
import os, sys, time
from pathlib import Path
import matplotlib
matplotlib.use("Agg")
from sim.report import plotting

def slow():  # the child's share: writes its pid, then waits
    Path(sys.argv[1]).write_text(str(os.getpid()))
    time.sleep(60)

def wait():  # the parent's share: waits to be killed
    time.sleep(60)

plotting.write_pngs(sys.argv[2], [("wait.png", wait, 2.0), ("slow.png", slow, 1.0)], 50, workers=2)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux only")
def test_child_ends_when_the_parent_is_killed(tmp_path):
    pid_file = tmp_path / "child.pid"
    parent = subprocess.Popen([sys.executable, "-c", _KILLED_PARENT, str(pid_file), str(tmp_path)],
                              cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline and parent.poll() is None
            time.sleep(0.05)
        child = int(pid_file.read_text())
        parent.kill()  # SIGKILL: no cleanup runs in the parent
        parent.wait()
        deadline = time.monotonic() + 10
        while _state(child) not in ("Z", "gone"):
            assert time.monotonic() < deadline, "the child outlived its parent"
            time.sleep(0.05)
    finally:
        parent.kill()
        parent.wait()
        if pid_file.exists() and pid_file.read_text() and _state(int(pid_file.read_text())) not in ("Z", "gone"):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)  # do not leave it behind when the test fails


def _state(pid):
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"
