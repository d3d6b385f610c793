"""Physical constants and unit conversions.

SI inside the code, with the unit in every name; the human units of the field (hm³, km²,
mm, MW, GWh) only at the edges, converted with the functions here.
"""

from __future__ import annotations

__all__ = [
    "SECONDS_PER_DAY",
    "GRAVITY_M_S2",
    "WATER_DENSITY_KG_M3",
    "M3_PER_HM3",
    "M2_PER_KM2",
    "HM3_PER_M3S_DAY",
    "HM3_PER_M3",
    "KM2_PER_M2",
    "MW_PER_W",
    "hm3_to_m3",
    "m3_to_hm3",
    "km2_to_m2",
    "m2_to_km2",
    "m3s_to_hm3_per_day",
    "mm_day_over_area_to_m3s",
    "w_to_mw",
    "mw_to_w",
    "w_day_to_mwh",
]

SECONDS_PER_DAY = 86_400.0  # [s]
GRAVITY_M_S2 = 9.81  # [m s-2]
WATER_DENSITY_KG_M3 = 1000.0  # [kg m-3]
M3_PER_HM3 = 1.0e6  # [m3 hm-3]  (1 hm³ = 1 Mm³ = 10⁶ m³)
M2_PER_KM2 = 1.0e6  # [m2 km-2]
HM3_PER_M3S_DAY = SECONDS_PER_DAY / M3_PER_HM3  # 0.0864 hm³ per (m³/s · day)
# SI -> human units as multipliers (``storage_m3 * HM3_PER_M3``), the product that messages
# and reports print. The functions below divide instead (``m3_to_hm3``): the two can differ in
# the last bit, so code whose printed numbers or output bytes are pinned keeps its operation.
HM3_PER_M3 = 1.0e-6  # [hm3 m-3]
KM2_PER_M2 = 1.0e-6  # [km2 m-2]
MW_PER_W = 1.0e-6  # [MW W-1]
GWH_PER_MWH = 1.0e-3  # [GWh MWh-1]
M_PER_MM = 1.0e-3  # [m mm-1]


def hm3_to_m3(volume_hm3):
    """Convert hm³ (million m³) to m³."""
    return volume_hm3 * M3_PER_HM3


def m3_to_hm3(volume_m3):
    """Convert m³ to hm³ (million m³)."""
    return volume_m3 / M3_PER_HM3


def km2_to_m2(area_km2):
    """Convert km² to m²."""
    return area_km2 * M2_PER_KM2


def m2_to_km2(area_m2):
    """Convert m² to km²."""
    return area_m2 / M2_PER_KM2


def m3s_to_hm3_per_day(flow_m3s):
    """Volume of a constant flow [m³/s] over one day, in hm³ (× 0.0864)."""
    return flow_m3s * HM3_PER_M3S_DAY


def mm_day_over_area_to_m3s(depth_mm_day, area_m2):
    """Flow equivalent [m³/s] of a depth rate [mm/day] over an area [m²]."""
    return depth_mm_day * 1.0e-3 * area_m2 / SECONDS_PER_DAY


def w_to_mw(power_w):
    """Convert W to MW."""
    return power_w / 1.0e6


def mw_to_w(power_mw):
    """Convert MW to W."""
    return power_mw * 1.0e6


def w_day_to_mwh(power_w):
    """Energy [MWh] of a constant power [W] held for one day (× 24 h / 10⁶)."""
    return power_w * 24.0e-6
