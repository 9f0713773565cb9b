"""Simulated sequential fine-tuning (`graphrec.benchmark.sequential`) on a small synthetic
zoo: the figures are regrets of real orders, and the paired suggest-top difference is the
difference of the two strategies' means, with a standard error."""

from __future__ import annotations

from pathlib import Path

import pytest

from graphrec.benchmark.inputs import load_matrix
from graphrec.benchmark.sequential import STRATEGIES, simulate
from graphrec.synth import generate_zoo


def test_simulate_reports_every_strategy_and_the_paired_difference(tmp_path: Path) -> None:
    zoo = generate_zoo(6, 40, 0.8, 4, tmp_path / "zoo")
    graph, _ = load_matrix(zoo.files["records"].parent)
    res = simulate(graph, "mean", seeds=2, budgets=(1, 2, 3), rounds=4)
    for regime in ("cold", "partial"):
        assert res["datasets"][regime] > 0
        cells = res[regime]
        assert set(STRATEGIES) <= set(cells)
        for name in STRATEGIES:
            regrets = [cells[name][f"regret@{b}"] for b in (1, 2, 3)]
            assert all(r >= 0 for r in regrets)
            assert regrets == sorted(regrets, reverse=True)  # more runs never find less
        diff = cells["suggest-top"]
        for key in ("regret@1", "regret@2", "regret@3", "runs"):
            assert diff[key] == pytest.approx(cells["suggest"][key] - cells["top"][key])
            assert diff[f"se:{key}"] >= 0
    # The first pick comes before any refit: it is the top pick, in both regimes.
    assert res["cold"]["suggest-top"]["regret@1"] == pytest.approx(0.0)
    assert res["partial"]["suggest-top"]["regret@1"] == pytest.approx(0.0)


def test_the_loop_refits_on_one_dataset_at_a_time(tmp_path: Path) -> None:
    """hla's refit on one new result keeps the order of that dataset's other models (the
    result moves the dataset's effect): the faithful loop picks the top N exactly. Refits
    that take in every held-out dataset's result at once are another design, and may
    differ. `max_targets` caps the datasets simulated per regime."""
    zoo = generate_zoo(8, 40, 0.8, 1, tmp_path / "zoo")
    graph, _ = load_matrix(zoo.files["records"].parent)
    one = simulate(graph, "hla", seeds=2, budgets=(1, 2, 3), rounds=4, max_targets=3)
    assert one["group"] == 1 and one["max_targets"] == 3
    assert 0 < one["datasets"]["cold"] <= 2 * 3 and 0 < one["datasets"]["partial"] <= 2 * 3
    for regime in ("cold", "partial"):
        assert one[regime]["suggest"] == one[regime]["top"]
    together = simulate(graph, "hla", seeds=2, budgets=(1, 2, 3), rounds=4, group=None,
                        max_targets=3)
    assert together["datasets"] == one["datasets"] and together["group"] is None
    with pytest.raises(ValueError, match="group must be an integer >= 1"):
        simulate(graph, "hla", seeds=1, group=0)
