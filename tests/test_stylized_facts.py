"""Stylized facts SF1-SF9 and SF13 (../BRIEF), each on means over 20 seeded replicates with a stated margin.

Every comparison uses the same seeds for both arms (common random numbers), and
asserts that the difference of means exceeds a margin, not merely its sign. The margins and
bounds live in tests/stylized_fact_thresholds.toml, one table per test, not in this code.
"""

from __future__ import annotations

import ast
import functools
import tomllib
from pathlib import Path

import numpy as np
import pytest

from clustersim.runner import run_scenario

HERE = Path(__file__).resolve().parent
T = tomllib.loads((HERE / "stylized_fact_thresholds.toml").read_text())
REPS = 20


@functools.cache
def _runs(scenario: str, overrides: tuple = (), reps: int = REPS):
    series, summary = run_scenario(scenario, seed=2024, replicates=reps, **dict(overrides))
    return series, summary


def summary(scenario: str, reps: int = REPS, **overrides):
    return _runs(scenario, tuple(sorted(overrides.items())), reps)[1]


def at_month(scenario: str, metric: str, month: int, reps: int = REPS, **overrides) -> np.ndarray:
    s = _runs(scenario, tuple(sorted(overrides.items())), reps)[0]
    return s.loc[s["month"] == month, metric].to_numpy()


def mean(x) -> float:
    return float(np.mean(x))


def assert_greater(a, b, margin: float, z: float = T["z"]) -> None:
    """Paired replicates (same seeds): mean(a - b) exceeds ``margin`` and is ``z`` standard errors above 0."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    se = d.std(ddof=1) / np.sqrt(d.size)
    assert d.mean() > margin, f"mean difference {d.mean():.4f} <= margin {margin}"
    assert d.mean() > z * se, f"mean difference {d.mean():.4f} within {z} SE ({se:.4f}) of zero"


def test_sf1_prior_cooperation_builds_trust_and_cooperation_faster():
    base_trust = at_month("funded_programme", "mean_trust", 24) - at_month("funded_programme", "mean_trust", 0)
    coop_trust = at_month("prior_cooperative", "mean_trust", 24) - at_month("prior_cooperative", "mean_trust", 0)
    t = T["sf1_prior_cooperation"]
    assert_greater(coop_trust, base_trust, t["trust_gain_margin"])
    # cooperation also rises sooner
    assert_greater(
        at_month("prior_cooperative", "share_cooperating", 12),
        at_month("funded_programme", "share_cooperating", 12),
        t["cooperation_month12_margin"],
    )


def test_sf1_trust_builds_slowly_from_an_individualistic_start():
    t = T["sf1_slow_trust"]
    trust = [mean(at_month("funded_programme", "mean_trust", m)) for m in (0, 12, 48, 96)]
    assert trust[1] - trust[0] < t["first_year_trust_gain_max"]  # the first year moves trust little
    assert trust[3] > trust[0] + t["long_run_trust_gain_min"]  # years of joint action do move it
    assert trust[3] > trust[2] > trust[1]


LEADERS = dict(leader_firms=5, leader_commitment=0.85, leader_mentoring=0.6)


def test_sf2_leader_firms_seed_cooperation():
    t = T["sf2_leader_firms"]
    # with no programme at all, a critical mass of leaders alone seeds cooperation
    assert_greater(
        at_month("baseline", "share_cooperating", 48, **LEADERS),
        at_month("baseline", "share_cooperating", 48),
        t["no_programme_month48_margin"],
    )
    # in a BSO-led programme they make it take off sooner; a full-time manager partly substitutes for
    # them, so the effect is smaller there and needs 40 replicates to resolve
    bso_led = dict(manager_present=False)
    assert_greater(
        at_month("funded_programme", "share_cooperating", 12, **LEADERS, **bso_led),
        at_month("funded_programme", "share_cooperating", 12, **bso_led),
        t["bso_led_month12_margin"],
    )
    assert_greater(
        at_month("leader_firms", "share_cooperating", 6, reps=40),
        at_month("funded_programme", "share_cooperating", 6, reps=40),
        t["programme_month6_margin"],
    )


def test_sf2_demonstration_effect_draws_in_outsiders():
    strong = summary("funded_programme", demonstration_effect=1.5)["mean_cooperation"]
    none = summary("funded_programme", demonstration_effect=0.0)["mean_cooperation"]
    assert_greater(strong, none, T["sf2_demonstration_effect"]["cooperation_margin"])


SF3_WAITS = {"programme_waits_for_first_tranche": True}


def test_sf3_disbursement_delay_lowers_cooperation():
    """The programme waits for the money: no manager and no paid service before the first tranche, as in
    the cases cited (000 "Cluster Development as a Long-Term Goal"; until session 29 only the manager
    waited). Since issue 11 a manager in post during the delay is a separate lever that buffers the
    disillusion (docs/ODD.md, "Expectations")."""
    coop = [
        mean(summary("funded_programme", disbursement_delay_months=d, **SF3_WAITS)["mean_cooperation"])
        for d in (0, 12, 24)
    ]
    t = T["sf3_disbursement_delay"]
    assert coop[0] > coop[1] + t["cooperation_drop_0_to_12"] and coop[1] > coop[2] + t["cooperation_drop_12_to_24"]
    assert_greater(
        summary("funded_programme", **SF3_WAITS)["mean_cooperation"],
        summary("funded_programme", disbursement_delay_months=12, **SF3_WAITS)["mean_cooperation"],
        t["cooperation_no_delay_margin"],
    )


# A strict xfail from session 25 to 28 (a 12-month delay raised peak dropouts by 0.85 firms at root 2024): while
# the programme waited for its money only the manager waited, and the BSO training it paid for in months 0-4
# absorbed the disillusion. Since session 29 a programme that waits for its money pays for no service before
# the first tranche (docs/ODD.md §7.2), and the registered rises hold: +3.15 and +10.5 firms at root 2024.
def test_sf3_disbursement_delay_raises_dropout():
    drop = [
        mean(summary("funded_programme", disbursement_delay_months=d, **SF3_WAITS)["peak_dropouts"])
        for d in (0, 12, 24)
    ]
    t = T["sf3_disbursement_delay"]
    assert drop[0] + t["dropout_rise_0_to_12"] < drop[1] and drop[1] + t["dropout_rise_12_to_24"] < drop[2]


def test_sf4_unfunded_plan_loses_motivation():
    start = at_month("unfunded_plan", "mean_motivation", 0)
    later = at_month("unfunded_plan", "mean_motivation", 24)
    funded = at_month("funded_programme", "mean_motivation", 24)
    t = T["sf4_unfunded_plan"]
    assert_greater(start, later, t["motivation_loss_margin"])
    assert_greater(funded, later, t["funded_vs_unfunded_margin"])


def test_sf5_heterogeneity_lowers_alignment_and_exports():
    """Heterogeneity in size (and hence goals) lowers the alignment of what firms want from joint action and
    costs export performance (000 "Heterogeneity among cluster members")."""
    kw = {"export_orientation": 0.3}
    # 40 replicates (20 before issue 11): the registered margins are unchanged, but affordability made
    # exports noisier between runs, and 20 no longer resolve a 0.08 difference at 3 standard errors
    reps = 40
    homo = summary("funded_programme", reps, size_heterogeneity=0.2, **kw)
    het = summary("funded_programme", reps, size_heterogeneity=2.0, **kw)
    t = T["sf5_heterogeneity_mentoring"]
    assert_greater(homo["mean_alignment"], het["mean_alignment"], t["alignment_margin"])
    assert_greater(homo["exports_index"], het["exports_index"], t["exports_margin"])


@pytest.mark.xfail(
    strict=True,
    reason="registered margin missed since members priced out of their goal leave (session 25): mentoring raises "
    "exports by +0.029 (SE 0.019, root 2024, 40 paired replicates), +0.064 (SE 0.027, root 7) and +0.067 (SE 0.021, "
    "root 20260101) against the margin 0.08; with priced_out_exit_rate = 0 the same arms give +0.110, +0.063 and "
    "+0.047 (pooled +0.053 against +0.073). At size_heterogeneity 2.0 about 27 of 60 firms, the small ones, leave "
    "in both arms when co-financing stops. The effect was at the margin before (pooled +0.070 over the same roots "
    "under the earlier rule), and this test's root 2024 is where the exit costs it most",
)
def test_sf5_mentoring_offsets_heterogeneitys_export_cost():
    """Large firms mentoring small ones recover part of heterogeneity's export cost, chiefly in exporting and
    capability (000 "Heterogeneity among cluster members"). Mentoring does not restore preference alignment
    itself: mentees start to want export actions too (see docs/ODD.md, SF5)."""
    t = T["sf5_heterogeneity_mentoring"]
    lead = dict(size_heterogeneity=2.0, leader_firms=5, leader_commitment=0.5, export_orientation=0.3)
    mentored = summary("funded_programme", 40, leader_mentoring=1.0, **lead)
    unmentored = summary("funded_programme", 40, leader_mentoring=0.0, **lead)
    assert_greater(mentored["exports_index"], unmentored["exports_index"], t["mentoring_exports_margin"])
    assert_greater(mentored["innovation_index"], unmentored["innovation_index"], t["mentoring_innovation_margin"])


def test_sf6_turnover_lowers_bso_capacity_and_cooperation():
    stable = summary("funded_programme", bso_turnover_rate=0.0)
    churn = summary("bso_turnover")
    t = T["sf6_bso_turnover"]
    assert_greater(stable["bso_capacity_mean"], churn["bso_capacity_mean"], t["capacity_margin"])
    assert_greater(stable["mean_cooperation"], churn["mean_cooperation"], t["cooperation_margin"])
    # where the BSO itself manages the cluster (TEPA, 000 "BSOs' future objectives") the loss is larger
    bso_led = dict(manager_present=False)
    assert_greater(
        summary("funded_programme", bso_turnover_rate=0.0, **bso_led)["mean_cooperation"],
        summary("bso_turnover", **bso_led)["mean_cooperation"],
        t["bso_led_cooperation_margin"],
    )


def test_sf7_training_raises_cooperation_and_spread_beats_one_block():
    """Training acts through the BSO's capacity to foster collaboration, so the cooperation claims are
    tested in a BSO-led programme (no separate manager, as where TEPA acted as cluster manager);
    with a full-time manager the BSO's marginal role is small (see test_sf6)."""
    bso_led = dict(manager_present=False)
    one_block = dict(bso_training_blocks=1)
    spread_out = dict(bso_training_blocks=4, bso_training_interval_months=3)
    trained = summary("funded_programme", **one_block, **bso_led)
    untrained = summary("funded_programme", bso_training_staff=0, **bso_led)
    t = T["sf7_bso_training"]
    assert_greater(trained["mean_cooperation"], untrained["mean_cooperation"], t["trained_cooperation_margin"])
    spread = summary("funded_programme", **spread_out, **bso_led)
    assert_greater(spread["bso_capacity_mean"], trained["bso_capacity_mean"], t["spread_capacity_margin"])
    # the cooperation gain of spreading is real but smaller than noise at 20 replicates: use 40
    assert_greater(
        summary("funded_programme", reps=40, **spread_out, **bso_led)["mean_cooperation"],
        summary("funded_programme", reps=40, **one_block, **bso_led)["mean_cooperation"],
        t["spread_cooperation_margin"],
    )
    # the capacity advantage of spreading holds in the full programme too
    assert_greater(
        summary("funded_programme", **spread_out)["bso_capacity_mean"],
        summary("funded_programme", **one_block)["bso_capacity_mean"],
        t["spread_capacity_full_programme_margin"],
    )


def test_sf8_pandemic_stalls_trust_and_hurts_most_when_early():
    shock = dict(pandemic_months=18)
    # trust building stalls: growth over the shock window falls short of the no-shock path
    grow = at_month("funded_programme", "mean_trust", 24) - at_month("funded_programme", "mean_trust", 6)
    early_kw = dict(pandemic_start_month=6, **shock)
    grow_shock = at_month("funded_programme", "mean_trust", 24, **early_kw) - at_month(
        "funded_programme", "mean_trust", 6, **early_kw
    )
    t = T["sf8_pandemic"]
    assert_greater(grow, grow_shock, t["trust_growth_margin"])
    # where trust is not yet established (month 6) the shock costs more cooperation over the run, and more
    # dropouts, than once trust has built up (month 54, mean trust about 0.4)
    none = summary("funded_programme")
    early = summary("funded_programme", **early_kw)
    late = summary("funded_programme", pandemic_start_month=54, **shock)
    lost_early = none["mean_cooperation"].to_numpy() - early["mean_cooperation"].to_numpy()
    lost_late = none["mean_cooperation"].to_numpy() - late["mean_cooperation"].to_numpy()
    assert_greater(lost_early, lost_late, t["early_cooperation_loss_margin"])
    assert_greater(early["peak_dropouts"], late["peak_dropouts"], t["early_dropout_margin"])


def test_sf9_cluster_manager_raises_cooperation():
    with_mgr = summary("funded_programme")["mean_cooperation"]
    without = summary("funded_programme", manager_present=False)["mean_cooperation"]
    assert_greater(with_mgr, without, T["sf9_cluster_manager"]["cooperation_margin"])


def test_sf13_archetypes_order_on_cooperation_innovation_openness():
    s = {k: summary(k) for k in ("sluggish", "rising", "innovative")}
    coop = {k: mean(v["final_cooperation"]) for k, v in s.items()}
    innov = {k: mean(v["innovation_index"]) for k, v in s.items()}
    open_ = {k: mean(v["openness_index"]) for k, v in s.items()}
    t = T["sf13_archetypes"]
    assert (
        coop["innovative"]
        > coop["rising"] + t["cooperation_innovative_over_rising"]
        > coop["sluggish"] + t["cooperation_sluggish_offset"]
    )
    assert (
        innov["innovative"] > innov["rising"] + t["innovation_innovative_over_rising"]
        and innov["rising"] > innov["sluggish"] + t["innovation_rising_over_sluggish"]
    )
    assert min(open_["innovative"], open_["rising"]) > open_["sluggish"] + t["openness_margin"]
    typ = {k: v["typology"].value_counts().idxmax() for k, v in s.items()}
    assert typ == {"sluggish": "sluggish", "rising": "rising", "innovative": "innovative"}


@pytest.mark.parametrize("r, persists", [(3.0, False), (8.0, True)])
def test_limit_case_well_mixed_public_goods(r, persists):
    """With trust, facilitation and funding off, contributions decay when r < group size (5) and persist above."""
    kw = dict(
        group_formation="random_groups",
        game_group_size=5,
        game_multiplier=r,
        trust_weight=0.0,
        free_riding_temptation=0.0,
        imitation_rate=0.5,
        selection_intensity=1.0,
        months=80,
        n_firms=200,
    )
    end = at_month("baseline", "contribution_rate", 80, **kw)
    t = T["limit_case_public_goods"]
    if persists:
        assert mean(end) > t["persists_min_contribution"]
    else:
        assert mean(end) < t["decays_max_contribution"]


def _numbers(node: ast.AST, into_calls: bool):
    """Numeric literals under ``node``, except subscript indices and, unless ``into_calls``, the
    arguments of calls (scenario settings and months such as ``summary(..., bso_turnover_rate=0.0)``)."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, int | float) and not isinstance(node.value, bool):
            yield node
        return
    if isinstance(node, ast.Subscript):
        yield from _numbers(node.value, into_calls)
        return
    if isinstance(node, ast.Call) and not into_calls:
        yield from _numbers(node.func, into_calls)
        return
    for child in ast.iter_child_nodes(node):
        yield from _numbers(child, into_calls)


def test_thresholds_are_read_from_the_file_not_written_in_assertions():
    """No numeric literal in an assert (but indices such as trust[1]), as an argument of assert_greater
    (scenario settings inside summary()/at_month() calls are experiment design and may stay) or as its
    default: margins and bounds belong in stylized_fact_thresholds.toml."""
    tree = ast.parse(Path(__file__).read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            found += _numbers(node, into_calls=True)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "assert_greater":
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                found += _numbers(arg, into_calls=False)
        elif isinstance(node, ast.FunctionDef) and node.name == "assert_greater":
            for default in [*node.args.defaults, *node.args.kw_defaults]:
                if default is not None:
                    found += _numbers(default, into_calls=False)
    assert not found, "threshold literals in code: " + ", ".join(f"line {n.lineno}: {n.value!r}" for n in found)


def test_every_threshold_in_the_file_is_used():
    """Each top-level key of the TOML is read somewhere in this module, and each key of a table is read in
    a function (or statement) that reads that table, so no dead threshold stays in the file."""
    tree = ast.parse(Path(__file__).read_text())
    strings = [
        {n.value for n in ast.walk(s) if isinstance(n, ast.Constant) and isinstance(n.value, str)} for s in tree.body
    ]
    unused = []
    for name, value in T.items():
        readers = [s for s in strings if name in s]
        if not readers:
            unused.append(name)
        elif isinstance(value, dict):
            seen = set().union(*readers)
            unused += [f"{name}.{key}" for key in value if key not in seen]
    assert not unused, f"thresholds never read by {Path(__file__).name}: {unused}"
