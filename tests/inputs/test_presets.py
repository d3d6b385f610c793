"""Built-in presets: every file loads and validates, and DATA.md's figures are transcribed exactly."""

from __future__ import annotations

import calendar
from pathlib import Path

import numpy as np
import pytest

from sim.inputs import presets
from sim.inputs.presets import (
    LABELS,
    PRESET_KINDS,
    PresetError,
    format_presets,
    hypsometry_table,
    list_presets,
    load_preset,
    preset_names,
)

EXPECTED_NAMES = {
    "reservoir": ["bakhri-tojik"],
    "plant": ["degraded", "original", "rehabilitated"],
    "inflow": ["dry-2008", "mean-2001-2010", "wet-2010"],
    "evaporation": ["khujand"],
    "seepage": ["residual-2001-2010"],
    "demand": ["baseline-2001-2010", "kazakhstan-protocol-2021", "kazakhstan-protocol-2025"],
    "constants": ["bakhri-tojik"],
}


def _decade_days(year: int, start_month: int, n_months: int) -> list[int]:
    days = []
    for month in range(start_month, start_month + n_months):
        last = calendar.monthrange(year, month)[1]
        days += [10, 10, last - 20]
    return days


def _volume_km3(decadal_m3s, days) -> float:
    return sum(q * d * 86400.0 for q, d in zip(decadal_m3s, days, strict=True)) / 1e9


def test_kinds_and_names():
    assert PRESET_KINDS == (
        "reservoir", "plant", "inflow", "evaporation", "seepage", "demand", "constants"
    )
    for kind, names in EXPECTED_NAMES.items():
        assert preset_names(kind) == names


@pytest.mark.parametrize(
    "kind,name", [(k, n) for k, names in EXPECTED_NAMES.items() for n in names]
)
def test_every_preset_loads_and_is_labelled(kind, name):
    preset = load_preset(kind, name)
    assert preset.kind == kind and preset.name == name
    assert preset.description
    assert preset.path.is_file()
    assert preset.values
    for key, v in preset.values.items():
        assert v.name == key
        assert v.label in LABELS
        assert v.confidence in ("high", "medium", "low")
        assert v.source.strip()
    assert preset.as_dict() == {k: v.value for k, v in preset.values.items()}


def test_list_presets_covers_everything():
    listed = {(p.kind, p.name) for p in list_presets()}
    assert listed == {(k, n) for k, names in EXPECTED_NAMES.items() for n in names}


def test_load_is_cached():
    assert load_preset("inflow", "dry-2008") is load_preset("inflow", "dry-2008")


def test_reservoir_figures():
    r = load_preset("reservoir", "bakhri-tojik")
    d = r.as_dict()
    assert d["normal_level_m"] == 347.5
    assert d["max_level_m"] == 349.0
    assert d["crest_level_m"] == 351.5
    assert d["min_level_m"] == 340.5
    assert d["bed_level_m"] == 322.5
    assert d["volume_at_normal_level_hm3"] == 4160
    assert d["area_at_normal_level_km2"] == 513
    assert d["spillway_capacity_m3s"] == 3960
    assert d["typical_storage_april_hm3"] == 3400
    assert d["siltation_fraction"] == 0.0
    assert d["hypsometry"] == "bakhri-tojik-hypsometry.csv"
    assert d["tailwater_flow_m3s"] == [0, 300, 1000, 4000]
    assert d["tailwater_level_m"] == [324.1, 325.0, 327.1, 336.1]
    labels = {k: v.label for k, v in r.values.items()}
    assert labels["normal_level_m"] == "SOURCED"
    assert labels["max_level_m"] == "GUESS"
    assert labels["min_level_m"] == "DERIVED"
    assert labels["bed_level_m"] == "DERIVED"
    assert labels["typical_storage_april_hm3"] == "DERIVED"
    assert labels["siltation_fraction"] == "GUESS"
    assert labels["hypsometry"] == "DERIVED"
    assert labels["tailwater_flow_m3s"] == labels["tailwater_level_m"] == "GUESS"
    # the tailwater placeholder is level = 325.0 + 0.003 (Q - 300)
    q = np.array(d["tailwater_flow_m3s"], dtype=float)
    np.testing.assert_allclose(d["tailwater_level_m"], 325.0 + 0.003 * (q - 300.0), atol=1e-9)


def test_hypsometry_table():
    level, storage, area = hypsometry_table()
    assert level.shape == storage.shape == area.shape == (117,)
    assert level[0] == 322.5 and level[-1] == 351.5
    np.testing.assert_allclose(np.diff(level), 0.25)
    assert storage[0] == 0.0 and area[0] == 0.0
    assert np.all(np.diff(storage[1:]) > 0)
    assert np.all(np.diff(storage) > 0)
    i = int(np.flatnonzero(level == 347.5)[0])
    assert storage[i] == pytest.approx(4160.0, abs=0.01)
    assert area[i] == pytest.approx(512.5, abs=0.02)
    j = int(np.flatnonzero(level == 340.5)[0])
    assert storage[j] == pytest.approx(1512.0, abs=1.0)
    # the placeholder formula itself
    x = (level - 322.5) / 25.0
    np.testing.assert_allclose(storage, 4160.0 * x**3.08, atol=5e-5)
    np.testing.assert_allclose(area, 4160.0 * 3.08 / 25.0 * x**2.08, atol=5e-5)


def test_plant_figures():
    orig = load_preset("plant", "original").as_dict()
    assert orig["units"] == 6 and orig["unit_capacity_mw"] == 21 and orig["installed_mw"] == 126
    assert orig["unit_max_flow_m3s"] == 150 and orig["efficiency"] == 0.85
    assert orig["min_head_m"] == 12.0 and orig["max_head_m"] == 22.5
    assert orig["mean_annual_generation_gwh"] == 580
    assert load_preset("plant", "original").values["min_head_m"].label == "DERIVED"

    rehab = load_preset("plant", "rehabilitated").as_dict()
    assert rehab["units"] == 6 and rehab["unit_capacity_mw"] == 29 and rehab["installed_mw"] == 174
    assert rehab["unit_max_flow_m3s"] == 180 and rehab["efficiency"] == 0.90
    assert rehab["min_head_m"] == 12.0 and rehab["max_head_m"] == 22.5
    assert rehab["mean_annual_generation_gwh"] == 850
    assert "176" in load_preset("plant", "rehabilitated").values["installed_mw"].note

    deg = load_preset("plant", "degraded")
    dd = deg.as_dict()
    assert dd["units"] == 6 and dd["unit_capacity_mw"] == 21
    assert dd["unit_max_flow_m3s"] == 150 and dd["efficiency"] == 0.85
    assert dd["unit_capacity_mw_each"] == [21, 21, 21, 12, 12, 12]
    assert deg.values["unit_capacity_mw_each"].label == "GUESS"
    # same schema as the other plants, plus the optional per-unit key
    assert set(dd) - {"unit_capacity_mw_each"} == set(orig)
    assert set(rehab) == set(orig)


def test_mean_inflow_profile():
    p = load_preset("inflow", "mean-2001-2010")
    q = p.get("decadal_m3s")
    assert len(q) == 36
    assert p.get("start") == "01-01"
    assert q[0] == 950 and q[-1] == 1012
    assert q[26] == 441  # Sep III
    assert q[9:12] == [585, 534, 500]  # Apr
    assert sum(q) == 23639  # sum of the DATA.md table
    assert p.get("cv_growing_season") == 0.39
    assert p.values["decadal_m3s"].label == "DERIVED"
    # annual mean 20.7 km3 is a mean of yearly totals; the mean profile should be close
    assert _volume_km3(q, _decade_days(2005, 1, 12)) == pytest.approx(20.7, abs=0.1)
    assert _volume_km3(q[9:27], _decade_days(2005, 4, 6)) == pytest.approx(7.5, abs=0.1)


def test_dry_and_wet_profiles():
    dry = load_preset("inflow", "dry-2008")
    wet = load_preset("inflow", "wet-2010")
    assert dry.get("start") == wet.get("start") == "04-01"
    qd, qw = dry.get("decadal_m3s"), wet.get("decadal_m3s")
    assert len(qd) == len(qw) == 18
    assert qd[0] == 259.8 and qd[-1] == 239.5
    assert qw[0] == 596.0 and qw[-1] == 783.7
    assert _volume_km3(qd, _decade_days(2008, 4, 6)) == pytest.approx(3.2, abs=0.1)
    assert _volume_km3(qw, _decade_days(2010, 4, 6)) == pytest.approx(12.3, abs=0.1)


def test_losses():
    evap = load_preset("evaporation", "khujand")
    mm = evap.get("monthly_mm")
    assert mm == [10, 15, 40, 70, 120, 160, 180, 160, 110, 70, 35, 15]
    assert mm[6] == 180
    assert evap.values["monthly_mm"].label == "GUESS"
    assert "30 %" in evap.values["monthly_mm"].note

    seep = load_preset("seepage", "residual-2001-2010")
    s = seep.get("monthly_m3s")
    assert len(s) == 12
    assert seep.values["monthly_m3s"].label == "DERIVED"
    # recompute: unexplained loss (km3/month) minus khujand evaporation over 411 km2
    loss_km3 = {4: 0.18, 5: 0.33, 6: 0.37, 7: 0.14}
    for m in range(12):
        if m in loss_km3:
            seconds = calendar.monthrange(2001, m + 1)[1] * 86400.0
            expected = (loss_km3[m] * 1e9 - mm[m] / 1000.0 * 411e6) / seconds
            assert s[m] == round(expected, 1)
        else:
            assert s[m] == 0.0
    assert s[4] == 48.8


def test_demand_presets():
    base = load_preset("demand", "baseline-2001-2010")
    q = base.get("decadal_m3s")
    assert q == [720, 626, 499, 468, 558, 488, 483, 492, 515, 540, 555, 568,
                 605, 599, 544, 431, 399, 322]
    assert base.get("start") == "04-01"
    assert base.values["decadal_m3s"].label == "DERIVED"

    kz25 = load_preset("demand", "kazakhstan-protocol-2025")
    assert kz25.get("volume_hm3") == 491
    assert kz25.get("window") == ["06-01", "08-31"]
    assert kz25.values["volume_hm3"].confidence == "high"

    kz21 = load_preset("demand", "kazakhstan-protocol-2021")
    assert kz21.get("volume_hm3") == 315
    assert kz21.get("window") == ["06-01", "08-31"]
    assert kz21.get("extra_m3s") == 50
    assert kz21.get("extra_from") == "07-24"


def test_constants():
    c = load_preset("constants", "bakhri-tojik")
    assert c.get("sanitary_min_release_m3s") == 150
    assert c.values["sanitary_min_release_m3s"].label == "GUESS"
    assert c.get("water_energy_exchange_kwh_per_m3") == 1.0


def test_unknown_name_message():
    with pytest.raises(PresetError) as info:
        load_preset("inflow", "dry-2009")
    assert str(info.value) == (
        'unknown inflow preset "dry-2009"; did you mean "dry-2008"? '
        '(choose one of "dry-2008", "mean-2001-2010", "wet-2010")'
    )
    assert isinstance(info.value, ValueError)


def test_unknown_kind_and_key():
    with pytest.raises(PresetError, match='did you mean "plant"'):
        load_preset("plants", "original")
    with pytest.raises(PresetError, match='did you mean "normal_level_m"'):
        load_preset("reservoir", "bakhri-tojik").get("normal_level")
    with pytest.raises(PresetError, match="choose one of"):
        preset_names("nonsense")


def test_broken_file_fails_loudly(tmp_path, monkeypatch):
    folder = tmp_path / "plant"
    folder.mkdir()
    (folder / "bad.toml").write_text(
        '[preset]\nkind = "plant"\nname = "bad"\ndescription = "x"\n'
        '[values.units]\nvalue = 6\nlabel = "MAYBE"\nconfidence = "high"\nsource = "s"\n'
    )
    (folder / "nosource.toml").write_text(
        '[preset]\nkind = "plant"\nname = "nosource"\ndescription = "x"\n'
        '[values.units]\nvalue = 6\nlabel = "GUESS"\nconfidence = "high"\n'
    )
    monkeypatch.setattr(presets, "_data_root", lambda: tmp_path)
    load_preset.cache_clear()
    try:
        with pytest.raises(PresetError, match="label 'MAYBE'"):
            load_preset("plant", "bad")
        with pytest.raises(PresetError, match="needs a source"):
            load_preset("plant", "nosource")
    finally:
        load_preset.cache_clear()


def test_format_presets_mentions_everything():
    text = format_presets()
    for kind, names in EXPECTED_NAMES.items():
        for name in names:
            assert f"{kind} {name}" in text
    assert "normal_level_m = 347.5" in text
    assert "SOURCED" in text and "DERIVED" in text and "GUESS" in text


def test_data_are_found_next_to_the_code():
    assert presets.DATA_ROOT == Path(presets.__file__).resolve().parent / "data"
    assert (presets.DATA_ROOT / "reservoir" / "bakhri-tojik.toml").is_file()


def test_missing_data_folder_is_a_clear_error_not_an_empty_choice(tmp_path, monkeypatch):
    monkeypatch.setattr(presets, "DATA_ROOT", tmp_path / "gone")
    load_preset.cache_clear()
    try:
        with pytest.raises(PresetError, match=r"built-in data folder .*gone is missing; expected the presets installed"):
            load_preset("reservoir", "bakhri-tojik")
        with pytest.raises(PresetError, match="missing"):
            format_presets()
    finally:
        load_preset.cache_clear()


def test_empty_preset_folder_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "plant").mkdir()
    monkeypatch.setattr(presets, "DATA_ROOT", tmp_path)
    load_preset.cache_clear()
    try:
        with pytest.raises(PresetError, match=r"no plant presets in .*plant; expected the built-in data files"):
            load_preset("plant", "rehabilitated")
    finally:
        load_preset.cache_clear()


def test_flow_m3s_expands_a_preset_profile_over_a_period():
    from sim.inputs.series import SeriesError
    from sim.physics.calendar import growing_season, water_year

    dry = load_preset("inflow", "dry-2008").flow_m3s(growing_season(2025))
    assert dry.shape == (183,)
    # hand-checked against the file: Apr I 259.8 (days 1-10), Apr II 270.3, Sep III 239.5
    assert (dry[0], dry[9], dry[10], dry[-1]) == (259.8, 259.8, 270.3, 239.5)
    with pytest.raises(SeriesError, match="covers 04-01..09-30 only"):
        load_preset("inflow", "dry-2008").flow_m3s(water_year(2025))
    with pytest.raises(PresetError, match="plant preset rehabilitated has no decadal_m3s or monthly_m3s"):
        load_preset("plant", "rehabilitated").flow_m3s(growing_season(2025))
