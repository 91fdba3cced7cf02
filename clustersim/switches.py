"""Mechanism switches: each mechanism a stylized fact is attributed to can be switched off on its own
by one registry value (docs/ODD.md, "Mechanism switches").

Declared once, as typed objects: the ODD table is generated from ``SWITCHES``, the paired-run
tests (tests/test_switches.py) run every one, and knock-out experiments read them.
"""

from __future__ import annotations

from dataclasses import dataclass

from .parameters import BY_NAME


@dataclass(frozen=True)
class Switch:
    """One mechanism and the registry value that turns it off."""

    mechanism: str
    parameter: str
    off: object
    facts: str  # the stylized facts it is invoked for (docs/BRIEF numbering)
    process: str  # the process module that applies it
    preset: str = "funded_programme"  # a preset in which the mechanism is at work
    months: int = 72  # long enough for it to show
    setting: tuple = ()  # overrides (name, value) that put the preset where the mechanism acts

    def __post_init__(self):
        if self.parameter not in BY_NAME:
            raise ValueError(f"switch {self.mechanism!r}: {self.parameter!r} is not a registry entry")


SWITCHES: tuple[Switch, ...] = (
    Switch(
        "demonstration effect of success stories",
        "demonstration_effect",
        0.0,
        "SF2",
        "membership, formation, motivation",
    ),
    Switch("leaders' successes are more visible", "leader_story_bonus", 0.0, "SF2", "completion", "leader_firms"),
    Switch(
        "leader floors on motivation and disposition",
        "leader_commitment",
        0.0,
        "SF5",
        "motivation, learning",
        "leader_firms",
    ),
    Switch("leaders call for partners", "leader_call_rate", 0.0, "SF5", "formation", "leader_firms"),
    Switch("leaders mentor small neighbours", "leader_mentoring", 0.0, "SF5", "learning", "leader_firms"),
    Switch(
        "disillusion at a gap between promised and received support",
        "disillusion_rate",
        0.0,
        "SF3, SF4",
        "motivation",
        "delayed_funding",
    ),
    Switch("trust begets trust (logistic growth)", "trust_self_reinforcement", 0.0, "SF1", "trust, completion"),
    Switch("dropping out", "dropout_hazard", 0.0, "SF3", "membership", "delayed_funding"),
    Switch(
        "disillusion of dropouts sticks", "dropout_base_motivation_factor", 1.0, "SF3", "membership", "delayed_funding"
    ),
    Switch("members priced out of their goal leave", "priced_out_exit_rate", 0.0, "SF5", "membership"),
    Switch("failed calls cost the initiator", "failed_call_motivation_factor", 1.0, "SF11", "formation", "baseline"),
    Switch("transaction (coordination) costs", "transaction_cost", 0.0, "SF11", "formation, play"),
    Switch("free-riding temptation", "free_riding_temptation", 0.0, "SF11", "play (rules)"),
    Switch("informal contact among acquaintances", "informal_contact_chance", 0.0, "SF1, SF8", "trust"),
    Switch("reputation spreading", "reputation_weight", 0.0, "SF1", "trust"),
    Switch("trusted ties carry on online", "trusted_ties_online", False, "SF8", "trust", "pandemic_shock"),
    Switch(
        "isolation without face-to-face contact",
        "isolation_motivation_loss",
        0.0,
        "SF8",
        "motivation",
        "pandemic_shock",
    ),
    Switch("shared success builds trust", "success_trust_multiplier", 0.0, "SF1, SF12", "completion"),
    Switch("success reinforces cooperative values", "success_disposition_gain", 0.0, "SF12", "completion"),
    Switch("facilitation: join bonus", "facilitation_join_bonus", 0.0, "SF9", "formation"),
    Switch("facilitation: coordination relief", "facilitated_coordination_relief", 0.0, "SF9, SF11", "formation, play"),
    Switch("facilitation: contribution bonus", "facilitation_contribution_bonus", 0.0, "SF9", "play"),
    Switch("facilitation: success support", "success_facilitation_weight", 0.0, "SF9, SF12", "completion"),
    Switch("BSO technical support of every action", "bso_success_support", 0.0, "SF6, SF7", "completion"),
    Switch("facilitation: conflict damping", "facilitation_conflict_damping", 0.0, "SF9", "play"),
    Switch("tie brokering at meetings", "brokerage_chance", 0.0, "SF9", "facilitation"),
    Switch("meetings build trust", "meeting_trust_gain", 0.0, "SF1, SF9", "facilitation"),
    Switch("matchmaking beyond acquaintances", "matchmaking_candidates_per_proposal", 0, "SF9", "formation"),
    Switch("monitoring burden", "monitoring_burden", 0.0, "SF15", "motivation"),
    Switch("monitoring-informed targeting", "targeting_strength", 0.0, "SF15", "facilitation"),
    Switch(
        "motivated firms answer monitoring more",
        "monitoring_response_motivation_weight",
        0.0,
        "SF15",
        "information",
        "conditional_tranches",
    ),
    Switch(
        "paid leader firms host their acquaintances",
        "leader_outreach_effect",
        0.0,
        "SF2, SF5",
        "facilitation, calendar",
        "leader_firms",
        setting=(("budget_leader_incentive", 240.0), ("programme_budget", 0.0)),
    ),
    Switch(
        "the programme covers the manager's salary the association cannot yet pay during a taper",
        "exit_handover_cover",
        0.0,
        "SF14",
        "facilitation",
        "tapered_exit",
        120,
    ),
    Switch(
        "the programme sponsors the association's founding during a taper (an assumption)",
        "handover_founding_trust_relief",
        0.0,
        "SF12, SF14",
        "association",
        "tapered_exit",
        120,
        setting=(("association_trust_threshold", 0.6),),  # a cluster whose trust has not reached it by the taper
    ),
    Switch("BSO staff turnover", "bso_turnover_rate", 0.0, "SF6", "facilitation", "bso_turnover"),
    Switch("regional exchange of BSO officers", "regional_exchange_gain", 0.0, "SF18", "calendar", "innovative"),
    Switch("pull of active acquaintances on joining", "join_neighbour_weight", 0.0, "SF2", "membership"),
    Switch("saturating benefits of repeated action types", "benefit_saturation", 0.0, "SF10", "formation, completion"),
    Switch(
        "the association coordinates joint actions",
        "association_proposals_per_month",
        0.0,
        "SF12, SF14",
        "formation",
        months=120,
    ),
)


def markdown_table() -> str:
    """The ODD's switch table, generated from ``SWITCHES``."""
    rows = ["| mechanism | switch off | stylized facts | process module |", "|---|---|---|---|"]
    for s in SWITCHES:
        off = str(s.off).lower() if isinstance(s.off, bool) else s.off
        rows.append(f"| {s.mechanism} | `{s.parameter} = {off}` | {s.facts} | {s.process} |")
    return "\n".join(rows)


#: Outputs compared with and without a switch (monthly series of the paired runs).
VERIFY_OUTPUTS = (
    "share_cooperating",
    "mean_trust",
    "mean_motivation",
    "members",
    "dropouts",
    "bso_capacity",
    "revenue_index",
    "reported_cooperation",  # what monitoring sees (the selective-response switch acts only here unless tranches depend on it)
)


#: further seeds (seed + 1, seed + 2, ...) a switch that changed nothing is tried on before it counts as
#: changing nothing: some mechanisms act only in some runs (trusted ties online act only on ties already
#: trusted when a pandemic starts; at seed 3 none is)
VERIFY_RETRIES = 2


def verify(switch: Switch, seed: int, retries: int = VERIFY_RETRIES) -> dict:
    """Run the switch's preset with the mechanism on and off (same seed): which outputs it changes, and
    the mean change in the share cooperating (verification that the mechanism acts at all). If it changes
    nothing, the next ``retries`` seeds are tried; the row's ``seed`` is the one it reports."""
    return verify_all([switch], seed, retries)[0]


def verify_all(switches, seed: int, retries: int = VERIFY_RETRIES) -> list[dict]:
    """``verify`` of each switch, with every paired run of a round in one ``run_each`` call, so that runs
    that can share an ensemble batch step together (each run is as it would be alone)."""
    switches = list(switches)  # indexed below, for the retries
    rows = _verify_at(switches, seed)
    for extra in range(1, retries + 1):
        unchanged = [i for i, row in enumerate(rows) if not row["outputs_changed"]]
        if not unchanged:
            break
        for i, row in zip(unchanged, _verify_at([switches[i] for i in unchanged], seed + extra), strict=True):
            rows[i] = row
    return rows


def _verify_at(switches, seed: int) -> list[dict]:
    from .ensemble_run import run_each
    from .scenario import load_scenario

    scenarios = []
    for switch in switches:
        on = load_scenario(switch.preset, **dict(switch.setting)).replace(months=switch.months)
        scenarios += [on, on.replace(**{switch.parameter: switch.off})]
    runs = run_each(scenarios, [seed] * len(scenarios))
    rows = []
    for i, switch in enumerate(switches):
        on, off = runs[2 * i][1], runs[2 * i + 1][1]
        changed = [k for k in VERIFY_OUTPUTS if not on[k].equals(off[k])]  # NaN-aware: no report is no change
        rows.append(
            {
                "mechanism": switch.mechanism,
                "switch": f"{switch.parameter} = {switch.off}",
                "facts": switch.facts,
                "preset": switch.preset + "".join(f", {k} = {v}" for k, v in switch.setting),
                "months": switch.months,
                "seed": seed,
                "outputs_changed": changed,
                "cooperation_change": float((on["share_cooperating"] - off["share_cooperating"]).mean()),
            }
        )
    return rows
