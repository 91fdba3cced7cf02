"""Unit tests of every process on tiny hand-built states (3-5 firms, a few ties): each checks its
equation's effect with the registered coefficients (docs/ODD.md, "Submodels")."""

from __future__ import annotations

import dataclasses
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clustersim import load_scenario
from clustersim.cluster_state import ClusterState
from clustersim.network import TrustNetwork, build_ties
from clustersim.policy import PolicyCalendar
from clustersim.processes import (
    calendar,
    completion,
    economy,
    facilitation,
    formation,
    funder,
    information,
    learning,
    membership,
    motivation,
    plain_games,
    play,
    rules,
    trust,
)
from clustersim.processes.initialisation import disposition_projects, initial_state
from clustersim.queries import (
    association_trust_needed,
    cofinancing_envelope,
    in_exit_taper,
    own_cost_share,
    success_signal,
)
from clustersim.state import ACTIVE, DROPPED, MEMBER, OUTSIDE
from clustersim.streams import Site


def tiny(n: int = 4, edges=((0, 1), (1, 2), (2, 3)), trust_on=0.5, seed: int = 0, **overrides) -> ClusterState:
    """A cluster of ``n`` firms on the given ties, every firm an idle member, trust ``trust_on`` on every tie."""
    params = load_scenario("funded_programme", n_firms=n, network_kind="ring", mean_degree=2, **overrides)
    s = initial_state(params, np.random.default_rng(seed), disposition_projects)
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    ties = build_ties(g, n, np.random.default_rng(seed), latent_share=0.0)
    k = ties.n_ties
    s.replace_network(TrustNetwork(ties, np.full(k, trust_on), np.full(k, 0.2), np.zeros(k, dtype=bool)))
    f = s.firms
    f.state[:] = MEMBER
    f.motivation[:] = 0.5
    f.motivation_base[:] = 0.5
    f.disposition[:] = 0.5
    f.leader[:] = False
    f.digital_access[:] = True
    s.programme_on[:] = True
    s.face_to_face[:] = True
    return s


def tie_index(s: ClusterState, a: int, b: int) -> int:
    t = s.network.ties
    lo, hi = min(a, b), max(a, b)
    return int(np.flatnonzero((t.u == lo) & (t.v == hi))[0])


# ------------------------------------------------------------------------------- calendar (programme)
def test_a_due_tranche_is_paid_into_the_cluster_account_once():
    s = tiny(grant_amount=300.0, grant_tranches=3, programme_budget=0.0)
    funder.release_tranches(s)
    funder.release_tranches(s)
    assert s.ledger.cluster(0).disbursed == pytest.approx(100.0) and s.ledger.cluster(0).bso_cash == pytest.approx(
        100.0
    )
    s.month = 12
    funder.release_tranches(s)
    assert s.ledger.cluster(0).disbursed == pytest.approx(200.0)


def test_a_spending_plan_spreads_each_tranche_until_the_next_and_the_last_until_the_end():
    # three yearly tranches of 100 k$ from month 0 in a 60-month programme
    s = tiny(grant_amount=300.0, grant_tranches=3, programme_months=60, programme_budget=0.0, cofinancing_paced=True)
    funder.release_tranches(s)
    assert cofinancing_envelope(s)[0] == pytest.approx(100.0 / 12)  # next tranche at month 12
    s.month = 10
    assert cofinancing_envelope(s)[0] == pytest.approx(100.0 / 2)
    s.month = 24
    funder.release_tranches(s)
    funder.release_tranches(s)  # months 12 and 24: 300 k$ in, none spent
    assert cofinancing_envelope(s)[0] == pytest.approx(300.0 / 36)  # no tranche left: until month 60
    on_demand = tiny(grant_amount=300.0, grant_tranches=3, programme_budget=0.0)
    funder.release_tranches(on_demand)
    assert cofinancing_envelope(on_demand)[0] == pytest.approx(100.0)  # all the cash


def test_members_expect_the_share_a_rationed_grant_covered_last():
    s = tiny(cofunding_share=0.2, cofinancing_paced=True)
    funder.release_tranches(s)
    funded = s.types.rows("cofinanced")[0]
    assert own_cost_share(s)[0, funded] == pytest.approx(0.2)  # before any rationing: the advertised share
    s.ledger.cofinancing_cover[0] = 0.25  # the account paid a quarter of the grant's part
    assert own_cost_share(s)[0, funded] == pytest.approx(0.2 + 0.8 * 0.75)
    assert (own_cost_share(s)[0, ~funded] == 1.0).all()
    on_demand = tiny(cofunding_share=0.2)
    funder.release_tranches(on_demand)
    on_demand.ledger.cofinancing_cover[0] = 0.25  # on demand nothing is rationed: the cover is not read
    assert own_cost_share(on_demand)[0, funded] == pytest.approx(0.2)


def test_a_late_funder_pays_nothing_before_the_actual_due_month():
    s = tiny(disbursement_delay_months=6)
    funder.release_tranches(s)
    assert s.ledger.cluster(0).disbursed == 0 and funder.support_gap(s)[0] == 1.0


def test_firm_training_closes_the_registered_share_of_each_gap():
    s = tiny(firm_training_share=1.0, firm_training_cost=0.0)
    f, c = s.firms, s.coef
    cap, mot = f.capability.copy(), f.motivation.copy()
    calendar.train_firms(s)
    assert f.trained.all()
    np.testing.assert_allclose(f.capability, cap + c.firm_training_capability_gain * (1 - cap))
    np.testing.assert_allclose(f.motivation, mot + c.firm_training_motivation_gain * (1 - mot))


def test_firm_training_is_limited_by_its_budget_line():
    s = tiny(firm_training_share=1.0, firm_training_cost=10.0, budget_firm_training=25.0, programme_budget=0.0)
    calendar.train_firms(s)  # the line pays for two of four firms
    assert s.firms.trained.sum() == 2 and s.ledger.cluster(0).remaining("firm_training") == pytest.approx(5.0)
    assert s.ledger.cluster(0).shortfall["firm_training"] == pytest.approx(20.0)


def test_a_bso_training_block_not_paid_for_is_not_held():
    s = tiny(bso_staff=2, bso_training_staff=2, budget_bso_training=0.0, programme_budget=0.0)
    before = s.bso.competence.copy()
    calendar.train_bso_block(s)
    np.testing.assert_array_equal(s.bso.competence, before)
    assert s.ledger.cluster(0).shortfall["bso_training"] > 0 and s.ledger.cluster(0).spent["bso_training"] == 0


def test_bso_training_block_has_diminishing_returns_within_a_block():
    s = tiny(bso_staff=4, bso_training_staff=2, bso_training_intensity=2.0, bso_training_blocks=1)
    c = s.coef
    before = s.bso.competence.copy()
    calendar.train_bso_block(s)
    gain = c.bso_training_retention * (1 - math.exp(-2.0))
    np.testing.assert_allclose(s.bso.competence[:2], before[:2] + (1 - before[:2]) * gain)
    np.testing.assert_array_equal(s.bso.competence[2:], before[2:])  # not trainees


def test_regional_exchange_teaches_trained_officers_only():
    s = tiny(bso_staff=3, bso_training_staff=1, budget_regional_exchange=10.0, programme_budget=0.0)
    s.bso.competence[:] = [0.7, s.coef.bso_untrained_competence, s.coef.bso_untrained_competence]
    calendar.regional_exchange(s)
    assert s.bso.competence[0] == pytest.approx(0.7 + s.coef.regional_exchange_gain * 0.3)
    assert (s.bso.competence[1:] == s.coef.bso_untrained_competence).all()


def test_hurricane_loss_lies_within_its_dispersion():
    s = tiny(n=5, edges=((0, 1),), hurricane_capital_loss=0.4)
    calendar.hurricane(s)
    loss = 1 - s.firms.capital
    d = s.coef.hurricane_loss_dispersion
    assert ((loss >= 0.4 * (1 - d) - 1e-12) & (loss <= 0.4 * (1 + d) + 1e-12)).all()


# ------------------------------------------------------------------------------- information
def test_information_quality_is_intensity_times_the_engaged_firms_motivation():
    s = tiny(monitoring_intensity=0.5)
    s.firms.motivation[:] = [0.2, 0.4, 0.6, 0.8]
    s.firms.state[3] = OUTSIDE
    information.update_information(s)
    assert s.information_quality == pytest.approx(0.5 * 0.4)
    s.programme_on[:] = False
    information.update_information(s)
    assert s.information_quality == 0.0


# ------------------------------------------------------------------------------- facilitation
def test_manager_contact_budget_is_respected():
    s = tiny(n=5, edges=((0, 1), (1, 2), (2, 3), (3, 4)), manager_contacts_per_month=2)
    s.ledger.disburse(100.0)  # the manager works once the first tranche has arrived
    facilitation.manager_month(s)
    assert s.manager.contacts_this_month == 2 and s.activity.contacted.sum() == 2
    assert s.ledger.cluster(0).spent_manager == pytest.approx(s.coef.manager_cost_per_month)


def test_manager_waits_for_the_first_tranche_only_if_told_to():
    s = tiny(programme_waits_for_first_tranche=True, disbursement_delay_months=6)
    facilitation.manager_month(s)
    assert s.manager.contacts_this_month == 0 and s.ledger.cluster(0).spent_manager == 0
    s = tiny(programme_waits_for_first_tranche=False, disbursement_delay_months=6)
    facilitation.manager_month(s)
    assert s.manager.contacts_this_month > 0 and s.ledger.cluster(0).spent_manager == s.coef.manager_cost_per_month


def test_a_programme_that_waits_for_its_money_pays_for_no_service_before_the_first_tranche():
    """Monitoring and leader incentives, like the manager, wait for the month of the first tranche; and only then."""
    for waits in (True, False):
        s = tiny(
            programme_waits_for_first_tranche=waits,
            disbursement_delay_months=6,
            monitoring_intensity=0.5,
            leader_incentive_per_month=1.0,
            budget_leader_incentive=10.0,
            programme_budget=0.0,
        )
        s.firms.leader[0] = True
        information.update_information(s)
        calendar.pay_leader_incentives(s)
        led = s.ledger.cluster(0)
        assert (led.spent["monitoring"] == 0) == waits and (led.spent["leader_incentive"] == 0) == waits, waits
        assert bool(s.monitoring_on[0]) != waits and bool(s.funder.leader_incentive_paid[0]) != waits
    s = tiny(programme_waits_for_first_tranche=True, disbursement_delay_months=6, monitoring_intensity=0.5)
    s.month = 6  # the month of the first tranche
    information.update_information(s)
    assert s.monitoring_on[0] and s.ledger.cluster(0).spent["monitoring"] > 0


def test_no_exit_taper_for_a_programme_still_waiting_for_its_money():
    """A programme whose first tranche is due after its taper has begun pays no salary to taper (the hand-over
    and the association's founding relief wait with it): only the lever separates the two cases."""
    for waits in (True, False):
        s = tiny(programme_waits_for_first_tranche=waits, disbursement_delay_months=90, exit_taper_months=24)
        s.month = 80  # in the last 24 months of the 96-month programme, before the tranche of month 90
        s.programme_on[:] = True
        assert bool(in_exit_taper(s)[0]) != waits, waits


def test_a_programme_that_waits_for_its_money_schedules_training_and_exchanges_from_the_first_tranche():
    kw = dict(disbursement_delay_months=12, regional_exchange_interval_months=12, firm_training_month=6)
    on_time = PolicyCalendar.from_scenario(load_scenario("funded_programme", **kw))
    waiting = PolicyCalendar.from_scenario(
        load_scenario("funded_programme", programme_waits_for_first_tranche=True, **kw)
    )
    first = waiting.disbursements[0]
    assert first == 12 == on_time.disbursements[0]
    assert waiting.training_blocks == tuple(m + first for m in on_time.training_blocks)
    assert waiting.firm_training == on_time.firm_training + first
    assert waiting.regional_exchanges == tuple(m for m in (e + first for e in on_time.regional_exchanges) if m < 96)
    never = PolicyCalendar.from_scenario(
        load_scenario("funded_programme", programme_waits_for_first_tranche=True, grant_amount=0.0, **kw)
    )
    assert never.training_blocks == () and never.firm_training is None and never.regional_exchanges == ()
    assert (waiting.services_start, on_time.services_start, never.services_start) == (12, 0, 96)


def test_the_manager_leaves_when_the_salary_line_is_spent_and_the_taper_shifts_pay_to_the_association():
    s = tiny(budget_manager=3.0, programme_budget=0.0)
    facilitation.manager_month(s)
    assert s.manager.funded_share == 1.0
    facilitation.manager_month(s)
    assert s.manager.funded_share == 0.0 and s.manager.months_unpaid == 1
    s = tiny(exit_taper_months=10, programme_months=96)
    s.month = 91  # five months left of a ten-month taper: the programme pays 4/10, and 0 in the last month
    assert facilitation.programme_salary_share(s) == pytest.approx(0.4)
    s.month = 95
    assert facilitation.programme_salary_share(s) == 0.0
    s.month = 91
    s.association.formed_month[:] = 0
    s.association.cash[:] = 100.0
    s.association.copay_months[:] = 10_000  # fully capable
    facilitation.manager_month(s)
    assert s.manager.funded_share == pytest.approx(1.0) and s.association.manager_paid == pytest.approx(1.8)


def test_during_a_hand_over_the_programme_covers_what_the_association_cannot_yet_pay():
    for cover, paid in ((1.0, 1.0), (0.0, 0.7)):
        s = tiny(exit_taper_months=10, programme_months=96, exit_handover_cover=cover)
        s.month = 91  # the taper pays 4/10; a new association can pay its base capability 0.3
        s.association.formed_month[:] = 0
        s.association.cash[:] = 100.0
        facilitation.manager_month(s)
        salary = s.coef.manager_cost_per_month
        assert s.manager.funded_share == pytest.approx(paid)
        assert s.ledger.cluster(0).spent_manager == pytest.approx((paid - s.coef.association_base_capability) * salary)
    s = tiny(exit_taper_months=10, programme_months=96, budget_manager=1.5, programme_budget=0.0)
    s.month = 91  # no association, and the line holds only half a salary: nothing beyond the line is paid
    facilitation.manager_month(s)
    assert s.manager.funded_share == pytest.approx(0.5) and s.ledger.cluster(0).spent_manager == pytest.approx(1.5)
    s = tiny(exit_taper_months=10, programme_months=96)
    s.month = 50  # before the taper nothing needs covering
    assert facilitation.handover_cover(s, 0.4) == 0.0


def test_a_sponsored_founding_needs_less_trust_only_during_the_exit_taper():
    s = tiny(exit_taper_months=10, programme_months=96)
    c = s.coef
    s.month = 50
    assert association_trust_needed(s) == c.association_trust_threshold
    s.month = 91
    assert association_trust_needed(s) == pytest.approx(
        c.association_trust_threshold * (1 - c.handover_founding_trust_relief)
    )
    s.programme_on[:] = False
    assert association_trust_needed(s) == c.association_trust_threshold


def test_paid_leaders_host_their_acquaintances_not_in_a_joint_action():
    s = tiny(
        n=5, edges=((0, 1), (0, 2), (0, 3), (3, 4)), leader_firms=1, budget_leader_incentive=10.0, programme_budget=0.0
    )
    f, c = s.firms, s.coef
    f.leader[0] = True
    f.state[:] = [MEMBER, OUTSIDE, ACTIVE, MEMBER, OUTSIDE]
    calendar.pay_leader_incentives(s)
    assert s.funder.leader_incentive_paid
    effect = c.leader_outreach_effect
    assert f.motivation[1] == pytest.approx(0.5 + c.contact_motivation_lift * effect * 0.5)
    assert list(s.activity.contact_effect) == pytest.approx([0.0, effect, 0.0, effect, 0.0])
    assert f.motivation[2] == 0.5 and f.motivation[4] == 0.5  # in a joint action; not an acquaintance
    s = tiny(
        n=5, edges=((0, 1), (0, 2), (0, 3), (3, 4)), leader_firms=1, budget_leader_incentive=0.0, programme_budget=0.0
    )
    s.firms.leader[0] = True
    calendar.pay_leader_incentives(s)  # unpaid leaders host nobody
    assert not s.funder.leader_incentive_paid and not s.activity.contacted.any()


def test_contact_lifts_motivation_by_the_registered_share():
    s = tiny()
    s.firms.state[1] = DROPPED
    facilitation.facilitate(s, np.array([0, 1]), effect=1.0, broker_site=Site.BROKER_BSO)
    c = s.coef
    assert s.firms.motivation[0] == pytest.approx(0.5 + c.contact_motivation_lift * 0.5)
    assert s.firms.motivation[1] == pytest.approx(0.5 + c.dropout_contact_motivation_lift * 0.5)


def test_meeting_builds_trust_only_among_firms_met_together():
    s = tiny()
    e01, e12 = tie_index(s, 0, 1), tie_index(s, 1, 2)
    facilitation.facilitate(s, np.array([0, 1]), effect=1.0, broker_site=Site.BROKER_BSO)
    assert s.network.trust[e01] == pytest.approx(0.5 + s.coef.meeting_trust_gain * 0.5)
    assert s.network.trust[e12] == 0.5 and s.network.contact[e01] and not s.network.contact[e12]


def test_brokering_activates_latent_ties_among_firms_met_and_can_be_switched_off():
    for chance, expect_active in ((1.0, True), (0.0, False)):
        s = tiny(brokerage_chance=chance)
        e = tie_index(s, 0, 1)
        s.network.ties.active[e] = False
        s.network.trust[e] = 0.0
        facilitation.facilitate(s, np.array([0, 1]), effect=1.0, broker_site=Site.BROKER_BSO)
        assert bool(s.network.ties.active[e]) is expect_active
        assert s.network.trust[e] == (pytest.approx(0.2 + s.coef.meeting_trust_gain * 0.8) if expect_active else 0.0)


def test_targeting_favours_firms_in_need_only_with_information():
    s = tiny(n=5, edges=((0, 1),))
    s.firms.motivation[:] = [0.95, 0.95, 0.95, 0.95, 0.0]
    picked = np.zeros(5)
    for q in (0.0, 1.0):
        s.information_quality[:] = q
        s.rng = np.random.default_rng(1)
        picked = sum(
            np.isin(4, facilitation.choose_contacts(s, 1, np.ones(5, dtype=bool), Site.CONTACT_BSO)) for _ in range(400)
        )
        if q == 0.0:
            assert 40 < picked < 130  # uniform: about 80 of 400
        else:
            assert picked > 300  # the firm whose motivation sags is the one visited


def test_bso_turnover_replaces_officers_with_untrained_hires():
    s = tiny(bso_staff=3, bso_training_staff=0, bso_turnover_rate=0.5)
    s.bso.competence[:] = [0.9, 0.8, s.coef.bso_untrained_competence]

    class AlwaysLow:  # every officer draws below the rate
        def random(self, size):
            return np.zeros(size)

    s.rng_turnover = AlwaysLow()
    facilitation.bso_turnover(s)
    assert (s.bso.competence == s.coef.bso_untrained_competence).all() and s.bso.officers_lost == 2


# ------------------------------------------------------------------------------- membership
def test_dropout_only_below_the_threshold():
    s = tiny(dropout_hazard=1.0, dropout_threshold=0.3, openness=0.0)
    s.firms.motivation[:] = [0.1, 0.29, 0.31, 0.9]
    membership.update_membership(s)
    assert s.firms.state.tolist() == [DROPPED, DROPPED, MEMBER, MEMBER]
    np.testing.assert_allclose(s.firms.motivation_base[:2], 0.5 * s.coef.dropout_base_motivation_factor)


def test_no_dropout_when_the_hazard_is_switched_off():
    s = tiny(dropout_hazard=0.0, dropout_threshold=0.3)
    s.firms.motivation[:] = 0.0
    membership.update_membership(s)
    assert (s.firms.state == MEMBER).all()


def test_join_probability_equation_and_demonstration_switch():
    c = tiny().coef
    p = membership.join_probability(c, np.array([0.5]), 0.8, np.array([0.25]), np.array([0.3]))
    pull = c.join_base_rate + c.join_contact_weight * 0.5 + c.join_demonstration_weight * c.demonstration_effect * 0.8
    pull += c.join_neighbour_weight * 0.25
    assert p[0] == pytest.approx(c.openness * pull * (c.join_motivation_offset + 0.3))
    off = tiny(demonstration_effect=0.0).coef
    with_signal = membership.join_probability(off, np.zeros(1), 1.0, np.zeros(1), np.full(1, 0.5))
    without = membership.join_probability(off, np.zeros(1), 0.0, np.zeros(1), np.full(1, 0.5))
    assert with_signal[0] == without[0]


def test_contacted_dropouts_with_recovered_motivation_return():
    s = tiny(reengagement_threshold=0.4, dropout_hazard=0.0)
    s.firms.state[:] = DROPPED
    s.firms.motivation[:] = [0.5, 0.5, 0.3, 0.5]
    s.activity.contacted[:] = [True, False, True, True]
    membership.update_membership(s)
    assert s.firms.state.tolist() == [MEMBER, DROPPED, DROPPED, MEMBER]


def test_a_firms_goal_is_the_type_of_largest_return_per_kusd():
    s = tiny()
    types = dataclasses.replace(
        s.types, multiplier=np.array([3.0, 4.0, 1.0, 1.0, 1.0]), cost=np.array([0.5, 2.0, 1.0, 1.0, 1.0])
    )
    w = np.zeros((2, types.count))
    w[0, :2] = [1.0, 0.8]  # multiplier x weight: 3.0 against 3.2, though the weight alone favours type 0
    w[1, :2] = [1.0, 0.7]  # 3.0 against 2.8, though cost x multiplier x weight favours type 1 (1.5 against 5.6)
    assert rules.goal_type(types, w).tolist() == [1, 0]


def _priced_out_state(**overrides):
    """Four idle members whose goal is production; their liquidity straddles its full cost."""
    s = tiny(**{"grant_amount": 0.0, "programme_budget": 0.0, "dropout_hazard": 0.0, "openness": 0.0, **overrides})
    f = s.firms
    f.weights[:] = 0.0
    f.weights[:, 1] = 1.0  # production
    f.capital[:] = 1.0
    full_cost = s.types.cost[1] * s.coef.joint_action_cost
    f.revenue0[:] = np.array([0.5, 0.9, 1.1, 2.0]) * full_cost / s.coef.liquidity_share
    return s


class FixedDraws:
    """The membership draw fixed per firm (tests force who draws under which rate)."""

    def __init__(self, r):
        self.r = np.asarray(r, dtype=float)

    def uniform(self, site, n):
        return np.broadcast_to(self.r, (n,)).copy()


def test_firms_that_cannot_pay_their_goal_are_priced_out():
    s = _priced_out_state()
    assert membership.priced_out_of_goal(s).tolist() == [True, True, False, False]
    s.ledger.bso_cash[:] = 1_000.0  # co-financing lowers the own share to cofunding_share
    s.programme_on[:] = True
    assert not membership.priced_out_of_goal(s).any()


def test_priced_out_idle_members_leave_at_the_registered_rate_and_return_only_once_they_can_pay():
    # a hazard of 1 for discouraged members: the firms here are not discouraged, so it must not act
    s = _priced_out_state(priced_out_exit_rate=0.25, dropout_hazard=1.0)
    s.draws = FixedDraws([0.2, 0.3, 0.2, 0.2])
    membership.update_membership(s)
    # firm 0 drew under the rate and cannot pay; firm 1 cannot pay but drew above; 2 and 3 can pay
    assert s.firms.state.tolist() == [DROPPED, MEMBER, MEMBER, MEMBER]
    assert s.firms.motivation_base[0] == 0.5  # leaving for want of money leaves no mark of disillusion
    assert s.cumulative["priced_out_exits"].tolist() == [1]
    s.activity.contacted[:] = True
    s.firms.motivation[:] = 0.9
    s.draws = FixedDraws(0.9)  # nobody else leaves
    membership.update_membership(s)
    assert s.firms.state[0] == DROPPED  # still cannot pay: a contact does not bring it back
    s.firms.revenue0[0] *= 10
    membership.update_membership(s)
    assert s.firms.state[0] == MEMBER


def test_leaders_do_not_leave_for_want_of_money():
    s = _priced_out_state(priced_out_exit_rate=0.25)
    s.firms.leader[0] = True
    s.draws = FixedDraws(0.0)
    membership.update_membership(s)
    assert s.firms.state[0] == MEMBER and s.firms.state[1] == DROPPED


def test_outsiders_priced_out_of_their_goal_do_not_join_while_price_makes_members_leave():
    for rate, joined in ((0.25, [False, False, True, True]), (0.0, [True, True, True, True])):
        s = _priced_out_state(priced_out_exit_rate=rate, openness=1.0)  # a draw of 0 is under any join chance
        s.firms.state[:] = OUTSIDE
        s.draws = FixedDraws(0.0)
        membership.update_membership(s)
        assert (s.firms.state == MEMBER).tolist() == joined, rate


def test_nobody_leaves_for_want_of_money_when_the_exit_rate_is_switched_off():
    s = _priced_out_state(priced_out_exit_rate=0.0)
    s.draws = FixedDraws(0.0)
    membership.update_membership(s)
    assert (s.firms.state == MEMBER).all()
    s.firms.state[:2] = DROPPED  # and priced-out dropouts return as any other would
    s.activity.contacted[:] = True
    s.firms.motivation[:] = 0.9
    membership.update_membership(s)
    assert (s.firms.state == MEMBER).all()


# ------------------------------------------------------------------------------- formation
def _proposal(s, seed_firm=0, kind=0, facilitation_level=0.0):
    return formation.Proposals(
        np.array([seed_firm]), np.array([kind]), np.array([facilitation_level > 0]), np.array([facilitation_level])
    )


def test_a_failed_call_lowers_the_initiators_motivation_by_the_registered_factor():
    s = tiny()
    formation.start_actions(s, _proposal(s), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    assert s.firms.motivation[0] == pytest.approx(0.5 * s.coef.failed_call_motivation_factor)
    assert s.actions.count == 0


def test_a_call_that_reaches_the_minimum_starts_the_action():
    s = tiny()  # knowledge sharing needs 3 firms
    formation.start_actions(s, _proposal(s), np.array([0, 0]), np.array([1, 2]))
    assert s.actions.count == 1 and s.firms.state[:3].tolist() == [ACTIVE] * 3 and s.firms.action[3] == -1
    assert s.actions.end[0] == s.month + s.types.duration_months[0]


def test_expected_cooperation_weights():
    c = tiny().coef
    e = rules.expected_cooperation(c, np.array([0.6]), 0.5, 0.25)[0]
    want = c.expectation_trust_weight * 0.6 + c.expectation_evidence_weight * 0.5
    assert e == pytest.approx(want + c.expectation_demonstration_weight * c.demonstration_effect * 0.25)


def test_long_actions_need_more_trust():
    """Expectation compounds over duration / risk_horizon_months (004 §The intervention logic)."""
    s = tiny()
    c, types = s.coef, s.types
    args = (np.array([1.0]), np.array([0.5]), np.array([1.0]), 0.0, np.array([0.6]))
    short = rules.expected_return(types, c, np.array([0]), *args)  # 3 months
    long = rules.expected_return(types, c, np.array([1]), *args)  # 12 months
    assert short[0] / types.multiplier[0] > long[0] / types.multiplier[1]


def test_facilitation_bonus_and_coordination_relief_in_the_join_score():
    s = tiny(transaction_cost=0.5)
    cand_p, cand_f, cand_tr = np.array([0]), np.array([1]), np.array([0.5])
    own = np.ones(s.types.count)
    plain = formation.join_score(s, _proposal(s), cand_p, cand_f, cand_tr, own, 0.5, 0.0)
    helped = formation.join_score(s, _proposal(s, facilitation_level=0.8), cand_p, cand_f, cand_tr, own, 0.5, 0.0)
    c = s.coef
    relief = c.facilitated_coordination_relief * c.transaction_cost / (s.types.cost[0] * c.joint_action_cost + 1e-9)
    assert helped[0] - plain[0] == pytest.approx(c.facilitation_join_bonus * 0.8 + relief)
    s0 = tiny(transaction_cost=0.5, facilitation_join_bonus=0.0, facilitated_coordination_relief=0.0)
    plain0 = formation.join_score(s0, _proposal(s0), cand_p, cand_f, cand_tr, own, 0.5, 0.0)
    helped0 = formation.join_score(s0, _proposal(s0, facilitation_level=0.8), cand_p, cand_f, cand_tr, own, 0.5, 0.0)
    assert helped0[0] == plain0[0]


def test_leaders_call_for_partners_unless_switched_off():
    for rate, some in ((1.0, True), (0.0, False)):
        s = tiny(
            self_organisation_rate=0.0, leader_call_rate=rate, bso_staff=0, bso_training_staff=0, manager_present=False
        )
        s.firms.leader[:] = True
        idle = np.ones(4, dtype=bool)
        counts = [formation.proposal_counts(s, idle, 4)[1] for _ in range(50)]
        assert bool(sum(counts) > 0) is some


# ------------------------------------------------------------------------------- play
def test_contribution_probability_equation():
    c = tiny().coef
    p = rules.contribution_probability(c, np.array([0.5]), np.array([0.6]), np.array([0.7]), np.array([0.4]))[0]
    social = c.trust_weight * (
        c.contribution_trust_slope * (0.6 - c.contribution_trust_reference)
        + c.contribution_motivation_slope * (0.7 - c.neutral_motivation)
    )
    assert p == pytest.approx(np.clip(0.5 + social - c.free_riding_temptation * 0.6, 0, 1))


def test_facilitation_raises_contribution_unless_switched_off():
    for bonus in (0.1, 0.0):
        s = tiny(facilitation_contribution_bonus=bonus)
        formation.start_actions(s, _proposal(s, facilitation_level=0.5), np.array([0, 0]), np.array([1, 2]))
        players, group = np.array([0, 1, 2]), np.zeros(3, dtype=np.int64)
        inside = np.zeros(s.network.ties.n_ties, dtype=bool)
        chance = play.contribution_chance(s, players, group, inside, np.ones(3))
        base = rules.contribution_probability(
            s.coef,
            s.firms.disposition[players],
            s.firms.trust_propensity[players],
            s.firms.motivation[players],
            np.ones(3),
        )
        np.testing.assert_allclose(chance, np.clip(base + bonus * 0.5, 0, 1))


def test_grant_covers_the_programme_share_while_cash_lasts():
    s = tiny(cofunding_share=0.3)
    s.ledger.disburse(100.0)
    own = play.grant_cover(s, np.array([0]), np.array([True]), np.array([True]), np.array([10.0]), np.array([1.0]))
    assert own[0] == pytest.approx(0.3) and s.ledger.cluster(0).paid_to_firms == pytest.approx(7.0)
    s.ledger.bso_cash[:] = 3.5  # half of the grant's share left
    own = play.grant_cover(s, np.array([0]), np.array([True]), np.array([True]), np.array([10.0]), np.array([1.0]))
    assert own[0] == pytest.approx(0.3 + 0.7 * 0.5)


def test_trust_grows_logistically_on_mutual_contribution_and_erodes_on_free_riding():
    s = tiny(n=3, edges=((0, 1), (1, 2)), trust_on=0.3)
    c = s.coef
    inside = np.ones(2, dtype=bool)
    trust.trust_from_play(s, inside, np.array([True, True, False]), np.ones(2))
    e01, e12 = tie_index(s, 0, 1), tie_index(s, 1, 2)
    grown = 0.3 + c.trust_gain * c.trust_logistic_scale * (0.3 + c.trust_growth_seed) * 0.7
    assert s.network.trust[e01] == pytest.approx(grown)
    assert s.network.trust[e12] == pytest.approx(0.3 - c.trust_loss * 0.3)


def test_logistic_growth_is_slow_from_a_low_start():
    c = tiny().coef
    g = rules.logistic_trust_growth(c, 0.1, np.array([0.02, 0.5, 0.98]))
    assert g[0] < g[1] and g[2] < g[1]


def test_trust_growth_without_self_reinforcement_is_flat_at_the_midpoint_rate():
    """At trust_self_reinforcement = 0 growth is rate * scale * 0.5 * (1 - T): the slow start is gone, and a
    tie at trust 0.5 grows exactly as under the logistic form."""
    flat = tiny(trust_self_reinforcement=0.0).coef
    logistic = tiny().coef
    trust_levels = np.array([0.02, 0.5, 0.98])
    g = rules.logistic_trust_growth(flat, 0.1, trust_levels)
    assert g == pytest.approx(0.1 * flat.trust_logistic_scale * 0.5 * (1 - trust_levels))
    assert g[0] > g[1]  # from a low start it grows fastest: nothing for trust to beget
    assert g[1] == pytest.approx(rules.logistic_trust_growth(logistic, 0.1, trust_levels)[1], abs=0.01)


def test_conflict_damping_lowers_erosion_and_can_be_switched_off():
    for damping_coef in (0.5, 0.0):
        s = tiny(n=3, edges=((0, 1),), trust_on=0.4, facilitation_conflict_damping=damping_coef)
        damping = np.full(1, 1.0 - damping_coef)
        trust.trust_from_play(s, np.ones(1, dtype=bool), np.array([True, False, False]), damping)
        assert s.network.trust[0] == pytest.approx(0.4 - s.coef.trust_loss * (1 - damping_coef) * 0.4)


def test_trusted_ties_carry_on_online_unless_switched_off():
    for on, want in ((True, 0.8), (False, 0.3)):
        s = tiny(n=3, edges=((0, 1),), trust_on=0.8, trusted_ties_online=on, online_effectiveness=0.3)
        s.face_to_face[:] = False
        assert trust.play_channel(s)[0] == pytest.approx(want)


# ------------------------------------------------------------------------------- completion
def test_success_probability_is_one_half_at_the_threshold_and_rises_with_effort():
    c = tiny().coef
    effort_at = lambda comp, cap: comp * (c.success_completion_weight + c.success_capability_weight * cap)
    thr = effort_at(0.8, 0.5)
    p = rules.success_probability(c, np.array([0.8, 0.9]), np.array([0.5, 0.5]), np.zeros(2), np.full(2, thr))
    assert p[0] == pytest.approx(0.5) and p[1] > p[0]


def test_bso_support_raises_the_success_chance_unless_switched_off():
    chances = {}
    for support in (0.5, 0.0):
        s = tiny(bso_success_support=support)
        formation.start_actions(s, _proposal(s), np.array([0, 0]), np.array([1, 2]))
        s.bso.competence[:] = 1.0
        part = np.flatnonzero(s.firms.action >= 0)
        chances[support] = completion.success_chance(s, np.array([0]), part, s.firms.action[part])[0]
    assert chances[0.5] > chances[0.0]


def test_success_and_failure_move_motivation_by_the_registered_shares():
    s = tiny()
    c = s.coef
    completion.reward_participants(s, np.array([0]), np.array([1]), np.array([3]))
    assert s.firms.motivation[0] == pytest.approx(0.5 + c.success_motivation_gain * 0.5)
    assert s.firms.motivation[1] == pytest.approx(0.5 - c.failure_motivation_loss * 0.5)
    assert s.firms.experience[0, 3] == 1.0 and s.firms.productivity[0] == pytest.approx(
        1.0 + s.types.revenue_gain[3] * c.revenue_gain_scale * s.firms.weights[0, 3]
    )


def test_shared_success_builds_trust_unless_switched_off():
    for mult in (2.0, 0.0):
        s = tiny(n=3, edges=((0, 1), (1, 2)), trust_on=0.4, success_trust_multiplier=mult)
        part, aid = np.array([0, 1]), np.array([0, 0])
        completion.trust_from_outcomes(s, part, aid, np.array([1], dtype=np.int8))
        c = s.coef
        want = 0.4 + mult * c.trust_gain * c.trust_logistic_scale * (0.4 + c.trust_growth_seed) * 0.6
        assert s.network.trust[tie_index(s, 0, 1)] == pytest.approx(want)
        assert s.network.trust[tie_index(s, 1, 2)] == 0.4


def test_a_leaders_success_counts_extra_stories():
    s = tiny(leader_story_bonus=1.0)
    completion.record_outcomes(s, np.array([0, 1]), np.array([True, True]), np.array([True, False]))
    assert s.success_stories[0, s.month] == 3.0
    s = tiny(leader_story_bonus=0.0)
    completion.record_outcomes(s, np.array([0, 1]), np.array([True, True]), np.array([True, False]))
    assert s.success_stories[0, s.month] == 2.0


def test_complete_releases_participants_and_books_the_outcome():
    s = tiny()
    formation.start_actions(s, _proposal(s), np.array([0, 0]), np.array([1, 2]))
    s.month = int(s.actions.end[0]) - 1
    completion.complete_joint_actions(s)
    assert not s.actions.running[0] and (s.firms.action == -1).all() and (s.firms.state == MEMBER).all()
    assert s.cumulative["succeeded"] + s.cumulative["failed"] == 1


# ------------------------------------------------------------------------------- learning
def test_fermi_rule():
    assert rules.fermi_adoption(1.0, np.array([0.0]))[0] == 0.5
    assert rules.fermi_adoption(100.0, np.array([1.0]))[0] == pytest.approx(1.0)


def test_imitation_copies_a_better_paid_engaged_neighbour():
    s = tiny(n=3, edges=((0, 1),), imitation_rate=1.0, selection_intensity=50.0)
    s.firms.payoff[:] = [0.0, 5.0, 0.0]
    s.firms.disposition[:] = [0.1, 0.9, 0.4]
    learning.imitate(s)
    assert s.firms.disposition[0] == 0.9 and s.firms.disposition[1] == 0.9 and s.firms.disposition[2] == 0.4


def test_mentoring_reaches_small_neighbours_of_leaders_only():
    for mentoring, moved in ((1.0, True), (0.0, False)):
        s = tiny(n=4, edges=((0, 1), (2, 3)), leader_firms=1, leader_mentoring=mentoring)
        s.firms.leader[:] = [True, False, False, False]
        s.firms.size_rank[:] = [0.9, 0.2, 0.9, 0.2]
        before = s.firms.capability.copy()
        learning.mentor(s)
        rate = s.coef.mentoring_rate * mentoring
        assert s.firms.capability[1] == pytest.approx(before[1] + rate * (1 - before[1]))
        assert bool(s.firms.capability[1] > before[1]) is moved and s.firms.capability[3] == before[3]


def test_leader_floor_on_disposition():
    s = tiny(leader_firms=1, leader_commitment=0.8)
    s.firms.leader[0] = True
    s.firms.disposition[0] = 0.2
    learning.leader_floor(s)
    assert s.firms.disposition[0] == 0.8


# ------------------------------------------------------------------------------- trust
def test_idle_ties_decay_towards_their_floor_and_contacted_ones_do_not():
    s = tiny(informal_contact_chance=0.0, reputation_weight=0.0)
    c = s.coef
    e01 = tie_index(s, 0, 1)
    s.network.contact[e01] = True
    trust.update_trust(s)
    want = 0.5 - c.trust_decay * 0.5 * (0.5 - 0.2)
    assert s.network.trust[e01] == 0.5 and s.network.trust[tie_index(s, 1, 2)] == pytest.approx(want)


def test_informal_contact_keeps_ties_alive_face_to_face_unless_switched_off():
    for chance, decays in ((1.0, False), (0.0, True)):
        s = tiny(informal_contact_chance=chance, reputation_weight=0.0)
        trust.update_trust(s)
        assert bool((s.network.trust < 0.5).all()) is decays


def test_reputation_spreading_pulls_trust_towards_the_ends_reputation():
    s = tiny(n=3, edges=((0, 1), (1, 2)), informal_contact_chance=1.0, reputation_weight=0.5)
    s.network.trust[:] = [0.2, 0.8]
    trust.update_trust(s)  # reputations: firm0 0.2, firm1 0.5, firm2 0.8
    np.testing.assert_allclose(s.network.trust, [0.2 + 0.5 * (0.35 - 0.2), 0.8 + 0.5 * (0.65 - 0.8)])
    s = tiny(n=3, edges=((0, 1), (1, 2)), informal_contact_chance=1.0, reputation_weight=0.0)
    s.network.trust[:] = [0.2, 0.8]
    trust.update_trust(s)
    np.testing.assert_allclose(s.network.trust, [0.2, 0.8])


# ------------------------------------------------------------------------------- motivation
def test_disillusion_follows_the_gap_between_promised_and_received_support():
    kw = dict(
        monitoring_intensity=0.0, demonstration_effect=0.0, motivation_decay=0.0, unaffordable_motivation_loss=0.0
    )
    for disbursed, rate, month in ((0.0, 0.02, 5), (100.0, 0.02, 5), (0.0, 0.0, 5)):
        s = tiny(disillusion_rate=rate, **kw)
        s.month = month
        s.ledger.disbursed[:] = disbursed  # the first of four 100 k$ tranches was promised for month 0
        gap, late = (float(x[0]) for x in funder.support_gap(s))
        motivation.update_motivation(s)
        want = rate * gap * (1 - math.exp(-late / s.coef.expectation_patience_months))
        np.testing.assert_allclose(s.firms.motivation, 0.5 - want)
        assert (gap == 1.0) is (disbursed == 0.0)


def test_monitoring_burden_costs_engaged_firms_unless_switched_off():
    for burden in (0.05, 0.0):
        s = tiny(
            disillusion_rate=0.0,
            monitoring_intensity=0.5,
            monitoring_burden=burden,
            motivation_decay=0.0,
            demonstration_effect=0.0,
            unaffordable_motivation_loss=0.0,
        )
        information.update_information(s)  # pays for the month's monitoring
        assert s.monitoring_on
        motivation.update_motivation(s)
        np.testing.assert_allclose(s.firms.motivation, 0.5 - burden * 0.5)


def test_monitoring_responders_are_motivated_engaged_firms_unless_knocked_out():
    """Response chance = base x willingness x reachability; with a base of 1 the draws decide nothing."""
    for weight, disengaged, want in (
        (1.0, 0.0, [True, True, False, False]),  # firm 2 has no motivation, firm 3 dropped out
        (0.0, 0.0, [True, True, True, False]),  # motivation no longer matters, dropouts still withhold
        (0.0, 1.0, [True, True, True, True]),  # the SF15 knock-out: everyone answers
    ):
        s = tiny(
            monitoring_intensity=0.5,
            monitoring_base_response=1.0,
            monitoring_response_slope=0.0,
            monitoring_response_motivation_weight=weight,
            monitoring_disengaged_response=disengaged,
        )
        s.firms.motivation[:] = [1.0, 1.0, 0.0, 1.0]
        s.firms.state[3] = DROPPED
        s.monitoring_on[:] = True
        assert information.responders(s).tolist() == want


def test_success_stories_lift_motivation_unless_switched_off():
    for effect in (1.0, 0.0):
        s = tiny(disillusion_rate=0.0, monitoring_intensity=0.0, motivation_decay=0.0, demonstration_effect=effect)
        s.month = 5
        s.success_stories[0, 2] = 10.0
        sig = float(success_signal(s)[0])
        motivation.update_motivation(s)
        want = 0.5 + s.coef.demonstration_motivation_gain * effect * sig * 0.5
        np.testing.assert_allclose(s.firms.motivation, want)


def test_isolation_costs_idle_members_without_trusted_partners():
    s = tiny(
        disillusion_rate=0.0,
        monitoring_intensity=0.0,
        motivation_decay=0.0,
        demonstration_effect=0.0,
        isolation_motivation_loss=0.1,
    )
    s.face_to_face[:] = False
    s.ledger.disbursed[:] = 1.0
    motivation.update_motivation(s)
    assert (s.firms.motivation < 0.5).all()


# ------------------------------------------------------------------------------- economy
def test_capital_recovers_by_the_registered_share():
    s = tiny()
    s.firms.capital[:] = 0.5
    economy.recover_capital(s)
    np.testing.assert_allclose(s.firms.capital, 0.5 + s.coef.capital_recovery_rate * 0.5)


def test_economy_totals_at_start_equal_initial_revenue():
    s = tiny()
    tot = economy.economy_totals(s)
    assert tot["revenue"] == pytest.approx(s.firms.revenue0.sum()) and tot["new_jobs"] == pytest.approx(0, abs=1e-9)


# ------------------------------------------------------------------------------- plain games
def test_neighbourhood_game_payoffs_on_a_line_of_three_cooperators():
    s = tiny(
        n=3,
        edges=((0, 1), (1, 2)),
        group_formation="neighbourhoods",
        game_multiplier=3.0,
        trust_weight=0.0,
        free_riding_temptation=0.0,
    )
    s.firms.disposition[:] = 1.0
    plain_games.play_neighbourhoods(s)
    r = 3.0
    share = np.array([r * 2 / 2, r * 3 / 3, r * 2 / 2])  # all contribute in each centred game
    received = share + np.array([share[1], share[0] + share[2], share[1]])
    np.testing.assert_allclose(s.firms.payoff, received - np.array([2.0, 3.0, 2.0]))


def test_common_strategy_and_alignment_of_hand_built_gains():
    c = tiny().coef
    same = np.tile([0.1, 0.5, 0.2, 0.0, 0.3], (4, 1))
    assert rules.most_preferred_type(same) == 1 and rules.goal_alignment(c, same) == pytest.approx(1.0)
    # two firms each sure of a different type: preferences one-hot, mean (0.5, 0.5, 0, ...), total variation 0.5
    split = np.array([[1e3, 0, 0, 0, 0], [0, 1e3, 0, 0, 0]], dtype=float)
    assert rules.most_preferred_type(split) == 0  # a tied vote goes to the lower type
    assert rules.goal_alignment(c, split) == pytest.approx(0.5)
    # per cluster, the same answers for the same firms, bit for bit
    gain, cluster = np.vstack([same, split]), np.array([0, 0, 0, 0, 1, 1])
    assert rules.most_preferred_types(gain, cluster, 2).tolist() == [1, 0]
    aligned = rules.goal_alignments(c, gain, cluster, 2)
    assert aligned.tolist() == [rules.goal_alignment(c, same), rules.goal_alignment(c, split)]


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(3, 70),
    half_degree=st.integers(1, 35),
    p=st.sampled_from([0.0, 0.01, 0.1, 0.5, 0.9, 1.0]),
    seed=st.integers(0, 2**31 - 2),
)
def test_small_world_edges_are_networkxs_watts_strogatz_graph(n, half_degree, p, seed):
    """``network.small_world_edges`` replaces networkx's generator in the start-up: the same edge set from the
    same seed, for any size, degree (odd ones too) and rewiring probability, including degrees where a firm is
    tied to everyone and rewiring must give up."""
    from clustersim.network import small_world_edges

    k = min(2 * half_degree - (seed % 2), n)  # odd and even degrees, up to k = n (the complete graph)
    k = max(k, 2)
    u, v = small_world_edges(n, k, p, seed)
    expected = {tuple(sorted(edge)) for edge in nx.watts_strogatz_graph(n, k, p, seed=seed).edges()}
    assert (u < v).all() and len(set(zip(u.tolist(), v.tolist(), strict=True))) == u.size
    assert set(zip(u.tolist(), v.tolist(), strict=True)) == expected


@pytest.mark.parametrize("kind", ["small_world", "ring", "complete", "scale_free"])
def test_acquaintance_edges_are_the_acquaintance_graphs_edges(kind):
    """The start-up's edge list is the networkx graph's, and both leave the model's generator in one state."""
    from clustersim.network import acquaintance_edges, acquaintance_graph

    for n, degree in ((60, 6), (25, 4), (7, 6), (5, 5)):
        rng_graph, rng_edges = np.random.default_rng(n), np.random.default_rng(n)
        graph = acquaintance_graph(kind, n, degree, 0.2, rng_graph)
        u, v = acquaintance_edges(kind, n, degree, 0.2, rng_edges)
        assert set(zip(u.tolist(), v.tolist(), strict=True)) == {tuple(sorted(edge)) for edge in graph.edges()}
        assert rng_graph.integers(2**62) == rng_edges.integers(2**62)


def test_the_active_ties_incidence_is_kept_only_while_they_stay_the_same():
    """``TrustNetwork.incidence`` keeps the active ties' ends and counts between calls; switching a tie on or
    off in place (as ``activate`` does) is seen at the next call, and any other mask is computed afresh."""
    s = tiny(5, edges=((0, 1), (1, 2), (2, 3), (3, 4), (0, 4)))
    net, n = s.network, s.firms.n
    net.ties.active[:] = [True, False, True, True, False]
    net.trust[:] = [0.2, 0.4, 0.6, 0.8, 1.0]

    def direct(mask):
        u, v, w = net.ties.u[mask], net.ties.v[mask], net.trust[mask]
        total = np.bincount(u, weights=w, minlength=n) + np.bincount(v, weights=w, minlength=n)
        count = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
        return np.where(count > 0, total / np.maximum(count, 1), -1.0), count

    default = np.full(n, -1.0)
    for _ in range(2):  # the second call takes what the first kept
        mean, count = direct(net.ties.active)
        assert np.array_equal(net.mean_trust_of(net.ties.active, n, default), mean)
        assert np.array_equal(net.incidence(net.ties.active, n)[3], count)
    net.activate(np.array([False, True, False, False, False]))  # in place: the kept incidence is stale now
    mean, count = direct(net.ties.active)
    assert np.array_equal(net.mean_trust_of(net.ties.active, n, default), mean)
    assert np.array_equal(net.incidence(net.ties.active, n)[3], count)
    other = np.array([True, True, False, False, True])
    assert np.array_equal(net.mean_trust_of(other, n, default), direct(other)[0])
    assert np.array_equal(net.incidence(net.ties.active, n)[3], count)  # another mask did not replace it
    assert np.array_equal(net.mean_trust_of(np.flatnonzero(other), n, default), direct(other)[0])  # tie indices
    kept = net.incidence(net.ties.active, n)
    assert not any(array.flags.writeable for array in kept)  # shared by later calls: read-only
    # other tie arrays behind the same active mask (firms renumbered): computed afresh, not served from the copy
    net.ties = dataclasses.replace(net.ties, u=(net.ties.u + 1) % n, v=(net.ties.v + 1) % n, active=net.ties.active)
    assert np.array_equal(net.incidence(net.ties.active, n)[3], direct(net.ties.active)[1])
