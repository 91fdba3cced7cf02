"""Every mechanism switch, when off, changes the model (a paired run with and without, same seed),
and is a valid registry value. Unit tests in tests/test_processes.py show that each removes its
own effect on a hand-built state."""

from __future__ import annotations

import functools

import pytest

from clustersim.parameters import BY_NAME
from clustersim.scenario import load_scenario
from clustersim.switches import SWITCHES, VERIFY_RETRIES, Switch, verify, verify_all


@pytest.mark.parametrize("switch", SWITCHES, ids=lambda s: s.parameter)
def test_switch_off_is_a_valid_value_that_differs_from_the_preset(switch):
    load_scenario(switch.preset, **dict(switch.setting), **{switch.parameter: switch.off})  # validated like any key
    assert load_scenario(switch.preset, **dict(switch.setting))[switch.parameter] != switch.off, "off in its preset"
    assert BY_NAME[switch.parameter].kind in ("float", "int", "bool")


@functools.cache
def _verified(seed: int) -> dict[str, dict]:
    """Every switch's paired runs at once (``verify_all`` steps them together), by mechanism."""
    return {row["mechanism"]: row for row in verify_all(SWITCHES, seed)}


@pytest.mark.parametrize("switch", SWITCHES, ids=lambda s: s.parameter)
def test_switching_a_mechanism_off_changes_the_paired_run(switch):
    row = _verified(11)[switch.mechanism]
    assert row["outputs_changed"], f"{row['switch']} left {switch.preset} unchanged over {switch.months} months"


def test_verifying_switches_together_gives_each_its_own_answer():
    alone = [verify(sw, seed=11) for sw in SWITCHES[:3]]
    assert [_verified(11)[sw.mechanism] for sw in SWITCHES[:3]] == alone


@pytest.mark.parametrize("parameter", ["exit_handover_cover", "leader_outreach_effect"])
def test_a_verified_switch_reads_the_runs_clustermodel_gives(parameter):
    """Anchor to one model at a time: the row from the batched runs (each at its switch's horizon) is the row
    from ``ClusterModel(...).run(months)`` with and without the switch (a 120-month switch, and one with a
    setting)."""
    from clustersim.model import ClusterModel
    from clustersim.switches import VERIFY_OUTPUTS

    switch = next(sw for sw in SWITCHES if sw.parameter == parameter)
    setting = dict(switch.setting)
    on = ClusterModel(switch.preset, seed=11, **setting).run(switch.months).series()
    off = ClusterModel(switch.preset, seed=11, **setting, **{switch.parameter: switch.off}).run(switch.months).series()
    row = _verified(11)[switch.mechanism]
    assert row["outputs_changed"] == [k for k in VERIFY_OUTPUTS if not on[k].equals(off[k])]
    assert row["cooperation_change"] == float((on["share_cooperating"] - off["share_cooperating"]).mean())


def test_a_switch_that_acts_only_in_some_runs_is_tried_on_the_next_seeds():
    """At seed 3 no tie is trusted when the pandemic starts, so trusted ties online change nothing there;
    the next seed shows the mechanism at work. A mechanism that cannot act (no pandemic at all) still changes
    nothing on every seed tried, and fails."""
    trusted = next(sw for sw in SWITCHES if sw.parameter == "trusted_ties_online")
    first = verify(trusted, seed=3, retries=0)
    assert first["seed"] == 3 and not first["outputs_changed"]
    retried = verify(trusted, seed=3)
    assert retried["seed"] > 3 and retried["outputs_changed"]
    idle = Switch("trusted ties online without a pandemic", "trusted_ties_online", False, "SF8", "trust", months=24)
    row = verify(idle, seed=3)
    assert not row["outputs_changed"] and row["seed"] == 3 + VERIFY_RETRIES
