"""Money that matters (issue 11): one budget through named lines, expectations instead of switches,
co-financing that changes behaviour, dose-response, the association and tapered exit, and a funder
that decides on biased reports.

Stochastic claims use paired replicates (same seeds in both arms) with the margins pre-registered in
tests/money_thresholds.toml, and at least ``z`` standard errors.
"""

from __future__ import annotations

import functools
import math
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clustersim import ClusterModel, ScenarioError, load_scenario
from clustersim.metrics import typology_path
from clustersim.policy import LINES
from clustersim.processes import association, funder
from clustersim.runner import run_scenario

T = tomllib.loads((Path(__file__).resolve().parent / "money_thresholds.toml").read_text())
REPS, Z, SEED = T["replicates"], T["z"], T["seed"]


@functools.cache
def _summary(scenario: str, overrides: tuple):
    return run_scenario(scenario, seed=SEED, replicates=REPS, **dict(overrides))[1]


def outcome(scenario: str, metric: str, **overrides) -> np.ndarray:
    return _summary(scenario, tuple(sorted(overrides.items())))[metric].to_numpy(dtype=float)


def assert_greater(a, b, margin: float) -> None:
    d = np.asarray(a, float) - np.asarray(b, float)
    d = d[~np.isnan(d)]
    se = d.std(ddof=1) / np.sqrt(d.size)
    assert d.mean() > margin, f"mean difference {d.mean():.4f} <= margin {margin}"
    assert d.mean() > Z * se, f"mean difference {d.mean():.4f} within {Z} SE ({se:.4f}) of zero"


# ------------------------------------------------------------------------------------- the budget
lines_strategy = st.fixed_dictionaries(
    {
        "grant_amount": st.floats(0, 300),
        "budget_manager": st.floats(0, 200),
        "budget_bso_training": st.floats(0, 20),
        "budget_firm_training": st.floats(0, 30),
        "budget_monitoring": st.floats(0, 20),
        "budget_regional_exchange": st.floats(0, 20),
        "budget_leader_incentive": st.floats(0, 30),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=lines_strategy,
    slack=st.floats(0, 100),
    seed=st.integers(0, 2**16),
    months=st.integers(1, 50),
    paced=st.booleans(),
)
def test_the_budget_is_never_exceeded(lines, slack, seed, months, paced):
    budget = sum(lines.values()) + slack
    m = ClusterModel(
        "funded_programme",
        seed=seed,
        n_firms=30,
        programme_months=40,
        months=60,
        programme_budget=budget,
        leader_firms=3,
        regional_exchange_interval_months=6,
        cofinancing_paced=paced,
        **lines,
    ).run(months)
    led = m.ledger
    for line in LINES:
        assert led.spent[line] <= led.allocation[line] + 1e-9, line
    assert led.programme_cost <= budget + 1e-9
    assert led.disbursed == pytest.approx(led.bso_cash + led.spent["cofinancing"])
    assert m.summary()["programme_cost"] == pytest.approx(led.programme_cost)


def test_lines_over_the_budget_are_a_one_line_error_naming_the_lines_and_total():
    with pytest.raises(ScenarioError) as err:
        load_scenario("funded_programme", programme_budget=500.0)
    msg = str(err.value)
    assert "\n" not in msg and "programme_budget = 500" in msg
    for name in ("budget_manager 288", "grant_amount 400", "= 758"):
        assert name in msg


def test_what_cannot_be_afforded_does_not_happen():
    m = ClusterModel("funded_programme", seed=1, budget_manager=30.0, budget_bso_training=5.0).run(40)
    assert m.ledger.spent["manager"] == pytest.approx(30.0)  # ten months of salary
    assert m.state.manager.months_unpaid[0] == 30  # then the manager leaves
    assert m.ledger.shortfall["bso_training"] > 0  # blocks not paid for were not held
    assert m.summary()["manager_months_unpaid"] == 30


def test_no_off_book_costs_programme_cost_is_what_was_spent():
    m = ClusterModel("funded_programme", seed=0).run()
    led = m.ledger
    assert led.programme_cost == pytest.approx(sum(led.spent.values()))
    assert led.programme_cost <= led.budget and led.spent["manager"] > 0
    assert m.summary()["firm_cofunding"] > 0  # firms' own money is reported apart


# ------------------------------------------------------------------------------- expectations
def _gap_path(**overrides) -> list[float]:
    m = ClusterModel("funded_programme", seed=0, **overrides)
    out = []
    for _ in range(70):
        m.step()
        # the gap as the motivation process sees it: this month's due tranches already released
        m.state.programme_on[:] = m.calendar.programme_active(m.month)
        funder.release_tranches(m.state)
        out.append(funder.support_gap(m.state)[0])
    return out


def test_a_small_budget_promised_as_small_is_no_gap():
    assert max(_gap_path(grant_amount=20.0)) == 0.0
    assert max(_gap_path()) == 0.0


def test_no_programme_no_promise_no_gap():
    assert max(_gap_path(programme_months=0)) == 0.0


def test_a_long_delay_is_a_gap_that_closes_late_and_never_funded_is_the_largest():
    delayed = _gap_path(disbursement_delay_months=18)
    never = _gap_path(plan_funded=False)
    assert delayed[5] > 0 and delayed[-1] == 0.0  # closes once the late tranches have all arrived
    assert max(never) == pytest.approx(1.0) and all(n >= d for n, d in zip(never, delayed, strict=True))


@pytest.mark.xfail(
    strict=True,
    reason="registered margin missed since a programme that waits for its money pays for no service before its "
    "first tranche (session 29): delayed_funding minus unfunded_plan on the lowest motivation of the first 36 "
    "months is +0.009 (SE 0.0018, z 5.2, 16 paired replicates) against the margin 0.02; the order holds, and on "
    "time minus delayed grew to +0.092. Until its first tranche (month 18) the delayed programme is now the "
    "unfunded plan, so the two troughs nearly meet; the old +0.048 (SE 0.006) came from the BSO training the "
    "delayed programme paid for in months 0-4 before any money had arrived",
)
def test_expectation_gap_orders_motivation_unfunded_delayed_on_time():
    e = T["expectations"]
    on_time = outcome("funded_programme", e["outcome"])
    delayed = outcome("delayed_funding", e["outcome"])
    never = outcome("unfunded_plan", e["outcome"])
    assert_greater(delayed, never, e["margin_unfunded_vs_delayed"])
    assert_greater(on_time, delayed, e["margin_delayed_vs_on_time"])


# ------------------------------------------------------------------------------- co-financing
@pytest.mark.xfail(
    strict=True,
    reason="pre-registered claim not reproduced: at an 80% own share firms started 4.6 MORE joint actions than "
    "at 20% (16 paired replicates), not 3 fewer. Diagnosis: the fixed 400 k$ grant co-finances about 21 of 96 "
    "months at a 20% share and about 72 at 80%, so both arms pay about 0.82-0.85 of the cost on average; with a "
    "grant that never runs out, a 20% share starts FEWER but larger actions (-6.7 +- 2.9 actions, +1,862 +- 206 k$ "
    "of volume). The test confounds the price with how long the grant lasts (issue 11 left open). Since priced-out members "
    "leave (session 25): 0.6 fewer actions at 80% (SE 2.4, z 0.26)",
)
def test_firms_own_share_changes_the_joint_actions_started():
    c = T["cofunding"]
    low = outcome("funded_programme", "joint_actions_started", cofunding_share=c["low"])
    high = outcome("funded_programme", "joint_actions_started", cofunding_share=c["high"])
    assert_greater(low, high, c["joint_actions_margin"])


def test_small_firms_are_the_first_priced_out():
    c = T["cofunding"]
    small_rate, large_rate = [], []
    for seed in range(REPS):
        m = ClusterModel("funded_programme", seed=SEED + seed, grant_amount=0.0, cofunding_share=1.0).run(72)
        f = m.firms
        small = f.size_rank < m.state.coef.size_score_median
        dropped = f.state == 3
        small_rate.append(dropped[small].mean())
        large_rate.append(dropped[~small].mean())
    assert_greater(small_rate, large_rate, c["small_vs_large_dropout_margin"])


def test_paced_cofinancing_never_runs_dry_before_the_last_tranche_period_ends():
    """On demand, a yearly tranche is spent in months and the account is empty between tranches; a spending
    plan (``cofinancing_paced``) spreads each tranche until the next one, the last until the programme ends."""
    series = {
        paced: run_scenario("funded_programme", seed=SEED, replicates=4, cofinancing_paced=paced)[0]
        for paced in (False, True)
    }
    window = lambda df: df[(df["month"] >= 1) & (df["month"] < 95)]  # noqa: E731 (first tranche to the last month)
    # the line's remainder is a difference of k$ sums: "empty" is within rounding of 0
    assert (window(series[True]).groupby("replicate")["cofinancing_left"].min() > 1e-6).all()
    assert (window(series[False]).groupby("replicate")["cofinancing_left"].min() < 1e-6).all()


@pytest.mark.xfail(
    strict=True,
    reason="claim not reproduced on its registered root: on demand minus paced, priced-out exits +0.25 (SE 0.43, "
    "root 2026, 16 paired replicates) against the margin 1.0; +1.8 (SE 0.63) on the pilot's root 2024 and +0.25 "
    "(SE 0.69) on root 7. Pacing spreads the last tranche (month 36) over the 60 months to the programme's end, so "
    "the grant covers little of each month and members expect to pay nearly all of it: small firms are priced out "
    "either way, later rather than at once",
)
def test_paced_cofinancing_keeps_priced_out_members_in():
    p = T["pacing"]
    on_demand = outcome("funded_programme", "priced_out_exits")
    paced = outcome("funded_programme", "priced_out_exits", cofinancing_paced=True)
    assert_greater(on_demand, paced, p["exits_margin"])


def test_a_paced_grant_is_a_lever_not_a_switch():
    """Members expect the grant to cover what it covered the last month (queries.own_cost_share): a small
    paced grant rations and is seen to, so it does not buy what a large one buys."""
    p = T["pacing"]
    large = outcome(
        "funded_programme",
        "mean_cooperation",
        cofinancing_paced=True,
        grant_amount=p["large_grant"],
        programme_budget=0.0,
    )
    small = outcome(
        "funded_programme",
        "mean_cooperation",
        cofinancing_paced=True,
        grant_amount=p["small_grant"],
        programme_budget=0.0,
    )
    assert_greater(large, small, p["dose_margin"])


# ------------------------------------------------------------------------------- dose-response
# Pre-registered margins the model misses, kept visible rather than loosened. strict: if one ever
# passes, say so.
# Under the legacy draws both pilots below were strict xfails for lack of power with the registered 16
# replicates: leader incentives +0.011 (SE 0.0072, z 1.6), the grant +0.038 (SE 0.014, z 2.7), which led to the
# powered confirmatory designs in tests/test_money_confirmatory.py (kept on the legacy draws they were
# registered under). Under the default counter draws (2026-12-06), whose common random numbers pair the arms
# more closely, the same margins, z and replicates pass: grant +0.071 (SE 0.018, z 4.0), leader incentives
# +0.019 (SE 0.0048, z 4.0). Nothing registered changed; the randomisation did.
MISSED: dict = {}


def dose_arms(line: str, outcome_of=outcome) -> tuple[np.ndarray, np.ndarray, float]:
    """The registered outcome at the full and at the small dose of a budget line ([dose] in the thresholds
    file), paired by seed, and the margin; ``outcome_of(scenario, metric, **overrides)`` runs the replicates."""
    d = T["dose"][line]
    scenario = d.get("scenario", "funded_programme")
    full = d.get("full", load_scenario(scenario)[line])
    big = outcome_of(scenario, d["outcome"], programme_budget=0.0, **{line: float(full)})
    small = outcome_of(scenario, d["outcome"], programme_budget=0.0, **{line: float(d["small"])})
    return big, small, d["margin"]


@pytest.mark.parametrize("line", [pytest.param(k, marks=MISSED.get(k, ())) for k in sorted(T["dose"])])
def test_each_budget_line_buys_its_outcome(line):
    assert_greater(*dose_arms(line))


@pytest.mark.parametrize("line", T["concave"]["lines"])
def test_diminishing_returns_the_first_half_buys_more_than_the_second(line):
    metric = T["concave"]["outcome"]
    full = float(load_scenario("funded_programme")[line])
    zero = outcome("funded_programme", metric, programme_budget=0.0, **{line: 0.0})
    half = outcome("funded_programme", metric, programme_budget=0.0, **{line: full / 2})
    whole = outcome("funded_programme", metric, programme_budget=0.0, **{line: full})
    first, second = (half - zero).mean(), (whole - half).mean()
    assert first > 0 and first > second, f"{line}: first half +{first:.4f}, second half +{second:.4f}"


# ------------------------------------------------------------------------------- the association
def _tiny_association_state(trust: float, coop: bool, **overrides):
    m = ClusterModel("funded_programme", seed=0, n_firms=6, mean_degree=2, **overrides)
    s = m.state
    s.network.trust[:] = trust
    s.firms.last_contribution[:] = s.month if coop else -10_000
    return s


def test_the_association_forms_only_above_its_thresholds_and_after_the_registered_months():
    s = _tiny_association_state(trust=0.9, coop=True, association_formation_months=4)
    for k in range(3):
        association.found_or_collect(s)
        assert not s.association.formed, k
    association.found_or_collect(s)
    assert s.association.formed
    for trust, coop in ((0.2, True), (0.9, False)):
        s = _tiny_association_state(trust=trust, coop=coop, association_formation_months=1)
        for _ in range(10):
            association.found_or_collect(s)
        assert not s.association.formed


def test_members_pay_fees_only_while_they_see_value():
    s = _tiny_association_state(trust=0.9, coop=True, association_formation_months=1)
    association.found_or_collect(s)
    association.found_or_collect(s)
    engaged = int(s.firms.engaged.sum())
    assert s.association.cash == pytest.approx(engaged * s.coef.association_fee)
    s.firms.last_contribution[:] = -10_000  # nobody has cooperated lately
    association.found_or_collect(s)
    assert s.association.paying_members == 0


@pytest.mark.xfail(
    strict=True,
    reason="pre-registered claim not shown: with the hand-over (the programme covers what the association cannot "
    "yet pay, and sponsors its founding, an assumption) a 24-month taper keeps +0.051 more firms cooperating 24 "
    "months after the end than an abrupt exit (margin 0.02) but z = 1.5 (SE 0.035, 16 paired replicates); it was "
    "+0.159 (z 2.96) before success stories stopped raising expected cooperation, which lets the association form "
    "before the taper in most runs. Since priced-out members leave (session 25): +0.041 (SE 0.020, z 2.0); the "
    "powered confirmatory design now passes (tests/test_money_confirmatory_exit.py)",
)
def test_tapered_exit_improves_sustainability_against_an_abrupt_exit():
    e = T["exit"]
    tapered = outcome("funded_programme", "coop_24m_after_end", exit_taper_months=e["taper_months"])
    abrupt = outcome("funded_programme", "coop_24m_after_end")
    assert_greater(tapered, abrupt, e["margin"])


def test_without_an_association_nobody_pays_the_manager_after_exit():
    m = ClusterModel("funded_programme", seed=3, association_trust_threshold=1.0).run()
    assert not m.association.formed and m.association.manager_paid == 0
    assert m.series()["manager_funded_share"].iloc[-1] == 0


# ------------------------------------------------------------------------------- the funder
def test_conditional_tranches_can_withhold_money_from_a_cluster_doing_fine():
    """Monitoring runs out of money in month 10, so later reports are empty and the funder, seeing
    no evidence, withholds tranches from a cluster whose true cooperation is above the milestone."""
    m = ClusterModel("conditional_tranches", seed=5, budget_monitoring=3.0).run()
    log = m.state.funder.decisions_of(0)
    wrong = [d for d in log if not d["released"] and d["true"] >= d["milestone"]]
    assert wrong, log[:3]
    assert {"month", "tranche", "indicator", "milestone", "reported", "true", "responders", "released"} <= set(wrong[0])
    assert math.isnan(wrong[0]["reported"]) and wrong[0]["responders"] == 0
    assert m.summary()["tranches_withheld_above_milestone"] >= 1
    assert m.ledger.disbursed < load_scenario("conditional_tranches").grant_amount


def test_unconditional_tranches_are_paid_on_schedule_without_decisions():
    m = ClusterModel("funded_programme", seed=5).run()
    assert m.state.funder.decisions_of(0) == [] and m.ledger.disbursed == pytest.approx(400.0)


# ------------------------------------------------------------------------------- typology over time
def test_typology_is_classified_every_year_and_summarised_as_a_path():
    m = ClusterModel("funded_programme", seed=0).run()
    path = typology_path(m.state)
    assert [month for month, _ in path] == list(range(0, 121, 12))
    assert m.summary()["typology_path"] == ">".join(cls for _, cls in path)
    assert {cls for _, cls in path} <= {"sluggish", "rising", "innovative"}
