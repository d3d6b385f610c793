"""Tests of sim.engine.memory: estimates checked by hand, the environment override, the refusal."""

import pytest

from sim.engine import memory, metrics

GIB = 2**30


def test_run_estimate_by_hand():
    # 4 regimes × 30,000 members × 183 days × 8 bytes × (18.125 series + 2 for one user),
    # plus one regime again while its chunks are joined, plus the 150 MiB base
    per = 183 * 8 * 20.125
    expected = 150 * 2**20 + 4 * 30_000 * per + 30_000 * per
    assert memory.run_bytes(183, 30_000, 4, 1) == int(expected)
    assert memory.run_bytes(183, 30_000, 4, 1) / GIB == pytest.approx(4.26, abs=0.01)
    # no joining within one chunk
    assert memory.run_bytes(183, 5_000, 4, 1) == int(150 * 2**20 + 4 * 5_000 * per)


def test_estimates_grow_with_every_factor():
    base = memory.sweep_bytes(1000, 2, 1, 2, n_days=183)
    assert memory.sweep_bytes(2000, 2, 1, 2, n_days=183) > base
    assert memory.sweep_bytes(1000, 3, 1, 2, n_days=183) > base
    assert memory.sweep_bytes(1000, 2, 2, 2, n_days=183) > base
    assert memory.sweep_bytes(1000, 2, 1, 3, n_days=183) > base
    assert memory.sweep_bytes(1000, 2, 1, 2, n_days=183, workers=2) > base
    # a billion-member sweep: (2 × 30 metrics + 8 key columns) × 8 B = 544 B a member and regime,
    # plus (3 × 1 parameter + 10) × 8 B = 104 B of per-member inputs: 648 B
    assert len(metrics.names()) == 30
    assert memory.sweep_bytes(10**9, 1, 0, 1, n_days=1, chunk_size=1) / 10**9 == pytest.approx(648, rel=0.01)


@pytest.mark.parametrize("text, expected", [("2G", 2 * GIB), ("500M", 500 * 2**20), ("1.5GiB", int(1.5 * GIB)),
                                            ("123456", 123456), ("off", None), ("OFF", None)])
def test_override(monkeypatch, text, expected):
    monkeypatch.setenv(memory.ENV, text)
    assert memory.available_bytes() == expected


def test_bad_override_is_named(monkeypatch):
    monkeypatch.setenv(memory.ENV, "lots")
    with pytest.raises(memory.MemoryLimitError, match='BAKHRI_MEMORY_LIMIT is "lots"; expected a size such as 8G'):
        memory.available_bytes()


def test_available_is_known_and_positive(monkeypatch):
    monkeypatch.delenv(memory.ENV, raising=False)
    avail = memory.available_bytes()
    assert avail is None or avail > 0


def test_require_refuses_with_estimate_and_advice(monkeypatch):
    monkeypatch.setenv(memory.ENV, "1G")
    memory.require(GIB, "fits", "n/a")
    with pytest.raises(memory.MemoryLimitError) as err:
        memory.require(3 * GIB + GIB // 2, "the thing", "Do less.")
    assert str(err.value).startswith("the thing needs about 3.5 GiB of memory; 1.0 GiB is available. Do less. ")
    monkeypatch.setenv(memory.ENV, "off")
    memory.require(10**15, "anything", "n/a")
