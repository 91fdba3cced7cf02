"""The cluster model: one step is one month (docs/ODD.md, "Process overview and scheduling")."""

from __future__ import annotations

from functools import partial

import numpy as np
from mesa import DataCollector, Model

from . import joint_actions as ja
from .agents import BSO, ClusterManager, Firm
from .metrics import MONTHLY_METRICS, monthly_metrics
from .network import acquaintance_graph, build_ties, cooperative_pairs, random_incident_partner, to_networkx
from .policy import Ledger, PolicyCalendar
from .scenario import Scenario, load_scenario
from .state import ACTIVE, DROPPED, MEMBER, OUTSIDE, export_share, initial_firms

COOPERATION_WINDOW = 6  # months: a firm "cooperates" if it contributed this recently


def _read_metric(name: str, model: ClusterModel):
    return model.current[name]


class ClusterModel(Model):
    """Cooperation in a business cluster under a policy programme.

    Args:
        scenario: a preset name, a TOML path or a :class:`~clustersim.scenario.Scenario`.
        seed: integer seed for the model's ``rng`` (all randomness flows from it).
        rng: alternatively a ``numpy.random.Generator`` or seed-like.
        **overrides: parameter overrides, validated like scenario keys.
    """

    def __init__(self, scenario: str | Scenario = "baseline", *, seed: int | None = None, rng=None, **overrides):
        params = load_scenario(scenario, **overrides)
        if seed is not None and rng is not None:
            raise ValueError("pass either seed or rng, not both")
        super().__init__(rng=seed if seed is not None else rng)
        self.params = params
        p = params
        self.month = 0
        self.calendar = PolicyCalendar.from_scenario(p)
        self.ledger = Ledger(committed=p.grant_amount if self.calendar.has_programme else 0.0)
        self.programme_on = self.calendar.programme_active(0)
        self.face_to_face = not self.calendar.pandemic_active(0)

        # the BSO's staff turnover draws from its own stream, so that scenarios differing in other
        # levers share the same turnover history (common random numbers for paired comparisons)
        self.rng_turnover = np.random.default_rng(self.rng.integers(2**63))
        # monitoring's response draws have their own stream so that measuring never perturbs the dynamics
        self.rng_monitoring = np.random.default_rng(self.rng.integers(2**63))
        self.firms = initial_firms(p, self.rng)
        n = self.firms.n
        graph = acquaintance_graph(p.network_kind, n, p.mean_degree, p.rewiring_prob, self.rng)
        coop = np.flatnonzero(self.firms.prior_collaboration)
        self.ties = build_ties(
            graph, n, self.rng, p.latent_tie_share, extra_pairs=cooperative_pairs(coop, p.mean_degree, self.rng)
        )
        t = self.ties
        prop = self.firms.trust_propensity
        self.trust_floor = 0.5 * (prop[t.u] + prop[t.v])
        both_prior = self.firms.prior_collaboration[t.u] & self.firms.prior_collaboration[t.v]
        self.trust_floor = np.where(both_prior, np.maximum(self.trust_floor, p.prior_trust), self.trust_floor)
        self.trust = np.where(t.active, self.trust_floor, 0.0)
        self.tie_contact = np.zeros(t.n_ties, dtype=bool)
        self.contacted = np.zeros(n, dtype=bool)
        self.contact_effect = np.zeros(n)
        self.actions = ja.ActionBook.empty()
        # success stories per month (a leader's counts twice); a fixed-size array, so reading the
        # recent ones costs the same at any cluster size
        self.success_stories = np.zeros(self.params.months + 1)
        self.outcomes_recent = [1, 2]  # prior: one success in two, before any evidence
        self.counters = {"contacts": 0, "meetings": 0, "services": 0, "ties_brokered": 0}
        self.cumulative = {"services": 0, "started": 0, "succeeded": 0, "failed": 0, "contributions": 0}
        self.alignment = np.nan
        self.contribution_rate = np.nan
        self.information_quality = 0.0

        self.bso = BSO(self, staff=p.bso_staff)
        self.manager = (
            ClusterManager(self, p.manager_skill, p.manager_contacts_per_month, p.manager_mode)
            if p.manager_present
            else None
        )
        self.firm_agents = Firm.create_agents(self, n, index=list(range(n)))

        self.baseline = self._economy_totals()
        self.current: dict[str, float] = {}
        self.datacollector = DataCollector(
            model_reporters={name: partial(_read_metric, name) for name in MONTHLY_METRICS}
        )
        self._collect()

    # ------------------------------------------------------------------ helpers
    @property
    def network(self):
        """A networkx view of the active trust ties (weights = trust), for inspection and drawing."""
        return to_networkx(self.ties, self.trust, self.firms.n)

    def reachable(self, online: bool = False) -> np.ndarray:
        """Firms a facilitator can meet: anyone, or only digitally connected firms online."""
        if online or not self.face_to_face:
            return self.firms.digital_access.copy()
        return np.ones(self.firms.n, dtype=bool)

    def cooperating(self) -> np.ndarray:
        return (self.month - self.firms.last_contribution) <= COOPERATION_WINDOW

    def _economy_totals(self) -> dict[str, float]:
        f = self.firms
        # domestic and export sales grow separately: joint export raises export sales, joint
        # marketing and production mainly domestic ones
        domestic = f.revenue0 * (1.0 - f.export_share0) * f.productivity * f.capital
        exports = f.revenue0 * export_share(f.export_readiness) * f.export_productivity * f.capital
        revenue = domestic + exports
        jobs = f.size * (revenue / f.revenue0) ** self.params.jobs_elasticity
        new_jobs = np.maximum(jobs - f.size, 0.0)
        women_jobs = jobs * f.female_job_share
        managers = 1.0 + f.size / 15.0
        women_managers = f.female_owner * 1.0 + (managers - 1.0) * f.female_job_share * 0.5
        return {
            "revenue": float(revenue.sum()),
            "exports": float(exports.sum()),
            "jobs": float(jobs.sum()),
            "new_jobs": float(new_jobs.sum()),
            "women_new_jobs": float((new_jobs * f.female_job_share).sum()),
            "women_jobs": float(women_jobs.sum()),
            "managers": float(managers.sum()),
            "women_managers": float(women_managers.sum()),
        }

    def _collect(self) -> None:
        self.current = monthly_metrics(self)
        self.datacollector.collect(self)

    # --------------------------------------------------------------------- step
    def step(self) -> None:
        """Advance one month. The order follows docs/ODD.md, "Process overview and scheduling"."""
        m = self.month
        self.programme_on = self.calendar.programme_active(m)
        self.face_to_face = not self.calendar.pandemic_active(m)
        self.contacted[:] = False
        self.contact_effect[:] = 0.0
        self.tie_contact[:] = False
        for k in self.counters:
            self.counters[k] = 0
        self._apply_calendar(m)
        self._update_information()
        self.bso.step()
        if self.manager is not None:
            self.manager.step()
        self._update_membership()
        self._form_joint_actions()
        self._play_joint_actions()
        self._complete_joint_actions()
        self._imitate()
        self._mentor()
        self._update_trust()
        self._update_motivation()
        self._update_economy()
        self.cumulative["services"] += self.counters["services"]
        self.month += 1
        self._collect()

    def run(self, months: int | None = None) -> ClusterModel:
        """Run ``months`` steps (default: the scenario's horizon)."""
        for _ in range(self.params.months if months is None else months):
            self.step()
        return self

    # ------------------------------------------------------------ submodels
    def _apply_calendar(self, m: int) -> None:
        """Disbursements, training blocks, firm training, regional exchange and hurricanes."""
        p, cal = self.params, self.calendar
        if m in cal.disbursements:
            self.ledger.disburse(p.grant_amount / p.grant_tranches)
        if m in cal.training_blocks:
            self.bso.train_block()
        if m in cal.regional_exchanges:
            self.bso.regional_exchange()
        f = self.firms
        if cal.firm_training == m:
            chosen = np.flatnonzero(f.engaged & (self.rng.random(f.n) < p.firm_training_share))
            cost = p.firm_training_cost
            affordable = (
                chosen.size if cost * chosen.size <= self.ledger.bso_cash else int(self.ledger.bso_cash // cost)
            )
            if chosen.size > affordable:  # cash for only some: a random subset, not the first on the ring
                chosen = self.rng.permutation(chosen)[:affordable]
            self.ledger.pay_from_account("spent_firm_training", chosen.size * p.firm_training_cost)
            f.trained[chosen] = True
            f.capability[chosen] += 0.2 * (1.0 - f.capability[chosen])
            f.trust_propensity[chosen] += 0.15 * (1.0 - f.trust_propensity[chosen])
            f.disposition[chosen] += 0.1 * (1.0 - f.disposition[chosen])
            f.motivation[chosen] += 0.1 * (1.0 - f.motivation[chosen])
            self.counters["services"] += int(chosen.size)
        if cal.hurricane == m:
            loss = np.clip(p.hurricane_capital_loss * self.rng.uniform(0.5, 1.5, f.n), 0.0, 1.0)
            f.capital *= 1.0 - loss
            f.motivation -= 0.2 * loss * f.motivation

    def _update_information(self) -> None:
        """Monitoring: better targeting needs data, and firms withhold data when disengaged (SF15)."""
        f = self.firms
        p = self.params
        engaged = f.engaged
        if not self.programme_on or p.monitoring_intensity == 0 or not engaged.any():
            self.information_quality = 0.0
            return
        response = float(f.motivation[engaged].mean())
        self.information_quality = p.monitoring_intensity * response

    def _update_membership(self) -> None:
        """Outsiders join, discouraged members drop out, contacted dropouts may return."""
        f, p, rng = self.firms, self.params, self.rng
        n = f.n
        signal = self.success_signal()
        t = self.ties
        act = t.active
        active_firm = (f.state == ACTIVE).astype(float)
        deg = np.bincount(t.u[act], minlength=n) + np.bincount(t.v[act], minlength=n)
        active_nb = np.bincount(t.u[act], weights=active_firm[t.v[act]], minlength=n) + np.bincount(
            t.v[act], weights=active_firm[t.u[act]], minlength=n
        )
        active_share = active_nb / np.maximum(deg, 1)
        r = rng.random(n)
        outside = f.state == OUTSIDE
        join_p = (
            p.openness
            * (0.002 + 0.5 * self.contact_effect + 0.04 * p.demonstration_effect * signal + 0.05 * active_share)
            * (0.5 + f.motivation)
        )
        joins = outside & (r < join_p)
        f.state[joins] = MEMBER
        f.joined_later[joins] = True
        idle_member = f.state == MEMBER
        # this month's joiners drew r below their join probability, so they are not also tested for dropping out
        drops = idle_member & ~joins & (f.motivation < p.dropout_threshold) & (r < 0.25) & ~f.leader
        f.state[drops] = DROPPED
        f.motivation_base[drops] *= 0.7  # disillusion sticks: re-engaging them costs effort (SF3)
        back = (f.state == DROPPED) & self.contacted & (f.motivation > p.reengagement_threshold)
        f.state[back] = MEMBER

    def success_signal(self) -> float:
        """Visibility of recent success stories, in [0, 1) (SF2 demonstration effect)."""
        recent = float(self.success_stories[max(0, self.month - 12) : self.month].sum())  # the 12 months before
        return 1.0 - np.exp(-recent / max(1.0, 0.05 * self.firms.n))

    def _cofinanced(self) -> np.ndarray:
        """Which action types the grant co-finances this month (it must be running and hold cash)."""
        return ja.NEEDS_FUNDING & (self.programme_on and self.ledger.bso_cash > 0)

    def _own_cost_share(self) -> np.ndarray:
        """Share of each action type's cost a firm expects to pay itself."""
        return np.where(self._cofinanced(), self.params.cofunding_share, 1.0)

    def _form_joint_actions(self) -> None:
        """Facilitators and self-organising firms propose joint actions; neighbours decide to join."""
        p = self.params
        if p.group_formation != "projects":
            return
        f, rng, t = self.firms, self.rng, self.ties
        idle = f.engaged & (f.action < 0)
        if not self.face_to_face:  # only the digitally connected, and firms with trusted partners, take part
            idle &= f.digital_access | (self._reputation() >= p.trusted_threshold)
        n_idle = int(idle.sum())
        if n_idle < 3:
            self.alignment = np.nan
            return
        own_share = self._own_cost_share()
        idle_idx = np.flatnonzero(idle)
        rates = self.outcomes_recent
        evidence, signal = rates[0] / rates[1], self.success_signal()
        reputation = self._reputation()
        expect = ja.expected_cooperation(reputation[idle_idx], evidence, signal, p.demonstration_effect)
        w, cap, capital = f.weights[idle_idx], f.capability[idle_idx], f.capital[idle_idx]
        gain = np.zeros((f.n, 5))
        gain[idle_idx] = ja.expected_gain(w, cap, capital, own_share, expect, p.benefit_multiplier)
        # alignment is about goals, so it is measured at a neutral expectation of partners
        common, _ = ja.common_strategy(gain[idle_idx])
        _, self.alignment = ja.common_strategy(ja.expected_gain(w, cap, capital, own_share, 0.5, p.benefit_multiplier))

        mean_trust = float(self.trust[t.active].mean()) if t.active.any() else 0.0
        lam_fac = self.bso.proposal_rate + (self.manager.proposal_rate if self.manager else 0.0)
        # leading firms are the bedrock of engaged entrepreneurs: they call for partners themselves
        lam_self = p.self_organisation_rate * n_idle * mean_trust + 0.3 * float((f.leader & idle).sum())
        n_fac, n_self = rng.poisson(lam_fac), rng.poisson(lam_self)
        n_prop = min(n_fac + n_self, n_idle // 3)
        if n_prop == 0:
            return
        n_fac = min(n_fac, n_prop)
        w = f.motivation[idle_idx] * (1.0 + 2.0 * f.leader[idle_idx]) + 1e-9
        keys = np.log(w) - np.log(-np.log(rng.random(idle_idx.size)))
        seeds = idle_idx[np.argpartition(-keys, n_prop - 1)[:n_prop]]
        rng.shuffle(seeds)
        facilitated = np.arange(n_prop) < n_fac
        # facilitators push the common strategy; self-organised groups follow the seed's preference
        kind = np.where(facilitated, common, np.argmax(gain[seeds], axis=1))
        manager_skill = self.manager.skill if (self.manager and self.manager.active) else 0.0
        # a facilitated proposal is supported by the manager or the BSO: the chance that either of them
        # gets it right, so a skilled manager or a capable BSO each lift it, and both together most
        facilitation = np.where(facilitated, 1.0 - (1.0 - manager_skill) * (1.0 - self.bso.capacity), 0.0)

        # candidates: idle neighbours of each seed (over active ties), plus matchmaking for facilitated proposals
        prop_of = np.full(f.n, -1, dtype=np.int64)
        prop_of[seeds] = np.arange(n_prop)
        eligible = idle & (prop_of < 0)
        act = t.active
        a = act & (prop_of[t.u] >= 0) & eligible[t.v]
        b = act & (prop_of[t.v] >= 0) & eligible[t.u]
        cand_p = np.concatenate([prop_of[t.u[a]], prop_of[t.v[b]]])
        cand_f = np.concatenate([t.v[a], t.u[b]])
        cand_tr = np.concatenate([self.trust[a], self.trust[b]])
        if n_fac:
            pool = np.flatnonzero(eligible)
            k = min(pool.size, 4 * n_fac)
            if k:
                extra = rng.choice(pool, size=k, replace=False)
                extra_p = np.flatnonzero(facilitated)[np.arange(k) % n_fac]
                cand_p = np.concatenate([cand_p, extra_p])
                cand_f = np.concatenate([cand_f, extra])
                cand_tr = np.concatenate([cand_tr, reputation[seeds[extra_p]]])
        if cand_f.size == 0:
            return
        order = rng.permutation(cand_f.size)
        cand_p, cand_f, cand_tr = cand_p[order], cand_f[order], cand_tr[order]
        _, first = np.unique(cand_f, return_index=True)
        cand_p, cand_f, cand_tr = cand_p[first], cand_f[first], cand_tr[first]

        k_c = kind[cand_p]
        expect = ja.expected_cooperation(cand_tr, evidence, signal, p.demonstration_effect)
        ret = ja.expected_return(
            k_c,
            f.weights[cand_f, k_c],
            f.capability[cand_f],
            f.capital[cand_f],
            own_share[k_c],
            expect,
            p.benefit_multiplier,
        )
        # coordination costs buy nothing; a facilitator who breaks the work into doable parts halves them
        coordination = (
            p.transaction_cost * (1.0 - 0.5 * (facilitation[cand_p] > 0)) / (ja.COST[k_c] * p.joint_action_cost + 1e-9)
        )
        score = ret - coordination + p.trust_weight * (f.motivation[cand_f] - 0.5) + 0.5 * facilitation[cand_p]
        joined = rng.random(cand_f.size) < 1.0 / (1.0 + np.exp(-3.0 * score))
        cand_p, cand_f = cand_p[joined], cand_f[joined]
        size = np.bincount(cand_p, minlength=n_prop) + 1
        start = size >= ja.MIN_PARTICIPANTS[kind]
        # a failed call for partners costs the initiator some motivation (coordination cost, SF11)
        f.motivation[seeds[~start]] *= 0.97
        if not start.any():
            return
        go = np.flatnonzero(start)
        ids = self.actions.add(
            kind[go], np.full(go.size, self.month), self.month + ja.DURATION[kind[go]], size[go], facilitation[go]
        )
        action_of_prop = np.full(n_prop, -1, dtype=np.int64)
        action_of_prop[go] = ids
        members = np.concatenate([seeds[go], cand_f[start[cand_p]]])
        f.action[members] = action_of_prop[np.concatenate([go, cand_p[start[cand_p]]])]
        f.state[members] = ACTIVE
        self.cumulative["started"] += int(go.size)

    def _reputation(self) -> np.ndarray:
        """Each firm's reputation: the mean trust others place in it over active ties."""
        t, n = self.ties, self.firms.n
        act = t.active
        s = np.bincount(t.u[act], weights=self.trust[act], minlength=n) + np.bincount(
            t.v[act], weights=self.trust[act], minlength=n
        )
        c = np.bincount(t.u[act], minlength=n) + np.bincount(t.v[act], minlength=n)
        return np.where(c > 0, s / np.maximum(c, 1), self.firms.trust_propensity)

    def _game_groups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Group membership for this month's public goods games.

        Returns (players, group id per player, multiplier per group, unit cost per group).
        """
        f, p = self.firms, self.params
        if p.group_formation == "random_groups":
            players = self.rng.permutation(f.n)
            n_groups = max(1, f.n // p.game_group_size)
            players = players[: n_groups * p.game_group_size]
            group = np.arange(players.size) // p.game_group_size
            return players, group, np.full(n_groups, p.game_multiplier), np.ones(n_groups)
        players = np.flatnonzero(f.action >= 0)
        aid = f.action[players]
        kinds = self.actions.kind[: self.actions.count]
        r = ja.MULTIPLIER[kinds] * p.benefit_multiplier
        c = ja.COST[kinds] * p.joint_action_cost
        return players, aid, r, c

    def _play_joint_actions(self) -> None:
        """Each running joint action is a public goods game this month: contribute or free-ride."""
        f, p, t, rng = self.firms, self.params, self.ties, self.rng
        if p.group_formation == "neighbourhoods":
            self._play_neighbourhood_games()
            return
        players, group, r, unit_cost = self._game_groups()
        monthly_payoff = np.zeros(f.n)
        if players.size == 0:
            self.contribution_rate = np.nan
            f.payoff *= 0.8
            return
        n_groups = r.size
        gsize = np.bincount(group, minlength=n_groups)
        if p.group_formation == "projects":
            kind = self.actions.kind[group]
            w = f.weights[players, kind]
            wsum = np.bincount(group, weights=w, minlength=n_groups)
            funded = self._cofinanced()[kind]
            own = self._own_cost_share()[kind]
        else:
            w = np.ones(players.size)
            wsum = gsize.astype(float)
            funded = np.zeros(players.size, dtype=bool)
            own = np.ones(players.size)
        # trust in co-players: mean trust over active ties inside the same group
        gid = np.full(f.n, -1, dtype=np.int64)
        gid[players] = group
        same = (gid[t.u] >= 0) & (gid[t.u] == gid[t.v])
        if p.group_formation == "projects":  # working together creates a tie
            new = same & ~t.active
            t.active |= new
            self.trust[new] = self.trust_floor[new]
        inside = same & t.active
        s = np.bincount(t.u[inside], weights=self.trust[inside], minlength=f.n) + np.bincount(
            t.v[inside], weights=self.trust[inside], minlength=f.n
        )
        c = np.bincount(t.u[inside], minlength=f.n) + np.bincount(t.v[inside], minlength=f.n)
        trust_in = np.where(c[players] > 0, s[players] / np.maximum(c[players], 1), f.trust_propensity[players])
        private_return = r[group] * w / np.maximum(wsum[group], 1e-9) / np.maximum(own, 1e-9)
        prob = ja.contribution_probability(
            f.disposition[players],
            trust_in,
            f.motivation[players],
            private_return,
            p.trust_weight,
            p.free_riding_temptation,
        )
        if p.group_formation == "projects":
            prob = np.clip(prob + 0.1 * self.actions.facilitated[group], 0.0, 1.0)
        contrib = rng.random(players.size) < prob
        # the grant co-finances contributions to funded actions while cash lasts
        if funded.any():
            grant_due = np.where(contrib & funded, (1.0 - p.cofunding_share) * unit_cost[group], 0.0)
            need = float(grant_due.sum())
            paid = self.ledger.pay_from_account("paid_to_firms", need)
            cover = paid / need if need > 0 else 1.0
            own = np.where(funded, p.cofunding_share + (1.0 - p.cofunding_share) * (1.0 - cover), own)
        own_paid = contrib * unit_cost[group] * own
        self.ledger.firm_own_contributions += float(own_paid.sum()) if p.group_formation == "projects" else 0.0
        pot = np.bincount(group, weights=contrib * unit_cost[group], minlength=n_groups) * r
        share = pot[group] * w / np.maximum(wsum[group], 1e-9)
        monthly_payoff[players] = share - own_paid
        if p.group_formation == "projects" and p.transaction_cost > 0:
            monthly_payoff[players] -= p.transaction_cost * (1.0 - 0.5 * (self.actions.facilitated[group] > 0))
        f.payoff = 0.8 * f.payoff + monthly_payoff
        f.last_contribution[players[contrib]] = self.month
        self.cumulative["contributions"] += int(contrib.sum())
        self.contribution_rate = float(contrib.mean())
        if p.group_formation == "projects":
            f.action_contributions[players[contrib]] += 1.0
            self.actions.contributions[: self.actions.count] += np.bincount(
                group, weights=contrib.astype(float), minlength=self.actions.count
            )[: self.actions.count]
        # trust among co-players: mutual contribution builds it, free riding erodes it
        did = np.zeros(f.n, dtype=bool)
        did[players] = contrib
        self._trust_from_play(inside, did, gid)

    def _trust_from_play(self, inside: np.ndarray, did: np.ndarray, gid: np.ndarray) -> None:
        p, t = self.params, self.ties
        if not inside.any():
            return
        both = inside & did[t.u] & did[t.v]
        one = inside & (did[t.u] ^ did[t.v])
        if self.face_to_face:
            channel = np.ones(t.n_ties)
        else:
            # online messages are read but not answered, except between partners who already trust each
            # other: established relationships carry on at a distance (SF8)
            dig = self.firms.digital_access
            channel = np.where(dig[t.u] & dig[t.v], p.online_effectiveness, 0.0)
            trusted = self.trust >= p.trusted_threshold
            channel[trusted] = np.maximum(channel[trusted], self.trust[trusted])
        damp = np.ones(t.n_ties)
        if p.group_formation == "projects" and self.actions.count:
            fac = self.actions.facilitated[np.maximum(gid[t.u], 0)]
            damp = 1.0 - 0.5 * fac * (self.manager is not None and self.manager.active)
        tr = self.trust
        # logistic growth: trust begets trust, so it builds slowly from a low start (SF1)
        tr[both] += p.trust_gain * channel[both] * 4.0 * (tr[both] + 0.02) * (1.0 - tr[both])
        tr[one] -= p.trust_loss * damp[one] * tr[one]
        self.tie_contact |= inside & (channel > 0)

    def _play_neighbourhood_games(self) -> None:
        """Limit case: every firm plays one public goods game centred on itself and one centred on each
        neighbour (Santos, Santos & Pacheco 2008), with the same decision and learning rules."""
        f, p, t = self.firms, self.params, self.ties
        act = t.active
        u, v = t.u[act], t.v[act]
        n = f.n
        deg = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
        s = np.bincount(u, weights=self.trust[act], minlength=n) + np.bincount(v, weights=self.trust[act], minlength=n)
        trust_in = np.where(deg > 0, s / np.maximum(deg, 1), f.trust_propensity)
        private_return = p.game_multiplier / (deg + 1.0)
        prob = ja.contribution_probability(
            f.disposition, trust_in, f.motivation, private_return, p.trust_weight, p.free_riding_temptation
        )
        contrib = self.rng.random(n) < prob
        c = contrib.astype(float)
        contributors = c + np.bincount(u, weights=c[v], minlength=n) + np.bincount(v, weights=c[u], minlength=n)
        share = p.game_multiplier * contributors / (deg + 1.0)  # each member's share of the game centred at i
        received = share + np.bincount(u, weights=share[v], minlength=n) + np.bincount(v, weights=share[u], minlength=n)
        payoff = received - c * (deg + 1.0)
        f.payoff = payoff  # a fresh round each month: the canonical game has no memory
        f.last_contribution[contrib] = self.month
        self.contribution_rate = float(c.mean())
        self.cumulative["contributions"] += int(contrib.sum())

    def _complete_joint_actions(self) -> None:
        """Finished joint actions succeed or fail; outcomes feed trust, motivation and the economy (SF12)."""
        if self.params.group_formation != "projects" or self.actions.count == 0:
            return
        book, f, p, t = self.actions, self.firms, self.params, self.ties
        n_a = book.count
        ending = book.running[:n_a] & (book.end[:n_a] <= self.month + 1)
        if not ending.any():
            return
        ids = np.flatnonzero(ending)
        part = f.action >= 0
        part_idx = np.flatnonzero(part)
        aid = f.action[part_idx]
        cap_mean = np.bincount(aid, weights=f.capability[part_idx], minlength=n_a) / np.maximum(book.size[:n_a], 1)
        completion = book.contributions[ids] / (book.size[ids] * ja.DURATION[book.kind[ids]])
        # while the programme runs, the BSO's technical support helps every joint action (000 Table 6)
        support = book.facilitated[ids] + (0.5 * self.bso.capacity if self.programme_on else 0.0)
        prob = ja.success_probability(completion, cap_mean[ids], support, ja.SUCCESS_THRESHOLD[book.kind[ids]])
        success = self.rng.random(ids.size) < prob
        book.running[ids] = False
        book.succeeded[ids] = success
        outcome = np.zeros(n_a, dtype=np.int8)  # 0 not ending, 1 success, -1 failure
        outcome[ids] = np.where(success, 1, -1)
        self.cumulative["succeeded"] += int(success.sum())
        self.cumulative["failed"] += int((~success).sum())
        # success stories: a leader's success is the most visible kind (SF2)
        led = np.bincount(f.action[f.leader & (f.action >= 0)], minlength=n_a)[ids] > 0
        if self.month >= self.success_stories.size:  # stepping beyond the scenario's horizon
            self.success_stories = np.concatenate([self.success_stories, np.zeros(self.success_stories.size)])
        self.success_stories[self.month] += success.sum() + (success & led).sum()
        s_now, n_now = int(success.sum()), int(ids.size)
        # evidence about joint actions: a running tally with a decaying memory
        self.outcomes_recent = [0.9 * self.outcomes_recent[0] + s_now, 0.9 * self.outcomes_recent[1] + n_now]

        out = outcome[aid]
        won = part_idx[out == 1]
        lost = part_idx[out == -1]
        k_won = book.kind[f.action[won]]
        f.productivity[won] += ja.REVENUE_GAIN[k_won] * p.revenue_gain_scale * f.weights[won, k_won]
        f.export_productivity[won] += ja.EXPORT_REVENUE_GAIN[k_won] * p.export_gain_scale * f.weights[won, k_won]
        np.add.at(f.experience, (won, k_won), 1.0)
        f.capability[won] += ja.CAPABILITY_GAIN[k_won] * (1.0 - f.capability[won])
        f.export_readiness[won] += ja.EXPORT_GAIN[k_won] * p.export_gain_scale * (1.0 - f.export_readiness[won])
        bonus = (
            ja.MULTIPLIER[k_won] * p.benefit_multiplier * ja.COST[k_won] * p.joint_action_cost * f.weights[won, k_won]
        )
        f.payoff[won] += bonus
        f.motivation[won] += 0.2 * (1.0 - f.motivation[won])
        f.motivation[lost] -= 0.1 * f.motivation[lost]
        # reinforcement: shared success strengthens the contributors' cooperative values; failure weakens them
        dur = ja.DURATION[book.kind[aid]]
        contributed = f.action_contributions[part_idx] >= 0.5 * dur
        f.disposition[won] += p.trust_weight * 0.1 * (1.0 - f.disposition[won]) * contributed[out == 1]
        f.disposition[lost] -= p.trust_weight * 0.05 * f.disposition[lost] * contributed[out == -1]
        if k_won.size:
            f.refresh_weights()
        # trust among co-participants reflects the shared outcome
        gid = np.full(f.n, -1, dtype=np.int64)
        gid[part_idx] = aid
        same = t.active & (gid[t.u] >= 0) & (gid[t.u] == gid[t.v])
        res = np.where(same, outcome[np.maximum(gid[t.u], 0)], 0)
        won_tie = res == 1
        self.trust[won_tie] += 2 * p.trust_gain * 4.0 * (self.trust[won_tie] + 0.02) * (1.0 - self.trust[won_tie])
        self.trust[res == -1] -= 0.5 * p.trust_loss * self.trust[res == -1]
        # release the participants
        done = part_idx[out != 0]
        f.action[done] = -1
        f.action_contributions[done] = 0.0
        f.state[done] = np.where(f.state[done] == ACTIVE, MEMBER, f.state[done])

    def _imitate(self) -> None:
        """Payoff-biased imitation of a peer's disposition (Fermi rule; Santos et al. 2008)."""
        f, p, rng = self.firms, self.params, self.rng
        if p.imitation_rate <= 0:
            return
        if p.group_formation == "projects":
            learners = np.flatnonzero(f.engaged & (rng.random(f.n) < p.imitation_rate))
        else:
            learners = np.flatnonzero(rng.random(f.n) < p.imitation_rate)
        if learners.size == 0:
            return
        if p.group_formation == "random_groups":  # well mixed: any firm is a peer
            partner = rng.integers(0, f.n, size=learners.size)
            ok = partner != learners
        else:
            tie, partner = random_incident_partner(self.ties, learners, rng)
            ok = (tie >= 0) & self.ties.active[np.maximum(tie, 0)]
            if p.group_formation == "projects":
                ok &= f.engaged[np.maximum(partner, 0)]
        learners, partner = learners[ok], partner[ok]
        diff = f.payoff[partner] - f.payoff[learners]
        adopt = rng.random(learners.size) < 1.0 / (1.0 + np.exp(-np.clip(p.selection_intensity * diff, -50, 50)))
        f.disposition[learners[adopt]] = f.disposition[partner[adopt]]
        if p.leader_firms:
            f.disposition[f.leader] = np.maximum(f.disposition[f.leader], p.leader_commitment)

    def _mentor(self) -> None:
        """Leader firms mentor small neighbouring firms, especially in exporting (000 §Heterogeneity; SF5)."""
        p, f, t = self.params, self.firms, self.ties
        if p.leader_firms == 0 or p.leader_mentoring <= 0:
            return
        small = f.size_rank < 0.5
        a = t.active & f.leader[t.u] & small[t.v]
        b = t.active & f.leader[t.v] & small[t.u]
        mentees = np.unique(np.concatenate([t.v[a], t.u[b]]))
        if mentees.size == 0:
            return
        rate = 0.03 * p.leader_mentoring
        f.capability[mentees] += rate * (1.0 - f.capability[mentees])
        f.export_readiness[mentees] += rate * (1.0 - f.export_readiness[mentees])
        f.refresh_weights()
        self.tie_contact |= a | b
        self.counters["services"] += int(mentees.size) if self.month % 12 == 0 else 0

    def _update_trust(self) -> None:
        """Informal contact, decay of ties without contact, and reputation spreading."""
        p, t, f = self.params, self.ties, self.firms
        tr = self.trust
        act = t.active
        if self.face_to_face:
            eng = f.engaged
            informal = act & eng[t.u] & eng[t.v] & (self.rng.random(t.n_ties) < 0.25)
            self.tie_contact |= informal
        idle = act & ~self.tie_contact
        # strong ties decay slowly: once established, trust is robust (SF8)
        tr -= idle * (p.trust_decay * (1.0 - tr) * np.maximum(tr - self.trust_floor, 0.0))
        if p.reputation_weight > 0:
            rep = self._reputation()
            tr[act] += p.reputation_weight * (0.5 * (rep[t.u[act]] + rep[t.v[act]]) - tr[act])
        np.clip(tr, 0.0, 1.0, out=tr)

    def _update_motivation(self) -> None:
        """Relaxation, disillusion while promised funds fail to arrive, success stories and reporting burden."""
        p, f = self.params, self.firms
        m = f.motivation
        m += p.motivation_decay * (f.motivation_base - m)
        eng = f.engaged
        waiting = self.programme_on and self.ledger.disbursed == 0
        if waiting:  # SF3, SF4: approval raised expectations that are not met
            m[eng] -= p.disillusion_rate
        signal = self.success_signal()
        m += 0.03 * p.demonstration_effect * signal * (1.0 - m) * (f.state != DROPPED)
        if self.programme_on and p.monitoring_intensity > 0:
            m[eng] -= p.monitoring_burden * p.monitoring_intensity
        if not self.face_to_face and p.isolation_motivation_loss > 0:
            # without meetings, idle members drift away unless they have trusted partners (SF8)
            idle = eng & (f.action < 0) & ~self.contacted
            trust_i = self._reputation()
            m[idle] -= p.isolation_motivation_loss * (1.0 - trust_i[idle])
        if p.leader_firms:
            m[f.leader] = np.maximum(m[f.leader], p.leader_commitment)
        np.clip(m, 0.0, 1.0, out=m)
        np.clip(f.capability, 0.0, 1.0, out=f.capability)
        np.clip(f.export_readiness, 0.0, 1.0, out=f.export_readiness)
        np.clip(f.disposition, 0.0, 1.0, out=f.disposition)

    def _update_economy(self) -> None:
        """Capital recovers after a hurricane."""
        f = self.firms
        f.capital += 0.04 * (1.0 - f.capital)

    # ----------------------------------------------------------- outputs
    def series(self):
        """The monthly series as a pandas DataFrame indexed by month."""
        df = self.datacollector.get_model_vars_dataframe()
        df.index.name = "month"
        return df

    def summary(self) -> dict[str, float | str]:
        """Per-run summary indicators (docs/ODD.md, "Outputs")."""
        from .metrics import run_summary

        return run_summary(self.series(), self)
