"""The parameter registry: every scenario parameter, its meaning, type, range, unit and source.

This table is the single source of truth. Scenario validation, the ODD parameter
table (``clustersim describe --markdown``) and the sensitivity-analysis factor
lists are all derived from it, so they cannot drift apart.

Sources are cited as ``000 §Section`` for Rabellotti & Conz (2023) and
``004 §Section`` for UNIDO (2020); see ``docs/ODD.md``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Param:
    """One scenario parameter.

    ``kind`` is one of ``int``, ``float``, ``bool`` or ``choice``. Numeric
    parameters carry an inclusive ``low``..``high`` range; choices carry
    ``choices``.
    """

    name: str
    section: str
    kind: str
    default: object
    meaning: str
    unit: str = "-"
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    source: str = ""
    lever: bool = False  # a policy lever (as opposed to a behavioural/structural parameter)

    def allowed(self) -> str:
        """Human-readable description of the allowed values."""
        if self.kind == "bool":
            return "true or false"
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        return f"{self.kind} in {_fmt(self.low)}..{_fmt(self.high)}"


def _fmt(x: float | None) -> str:
    if x is None:
        return "?"
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


S000 = "000"  # Rabellotti & Conz (2023), CCPF Cluster Capacity Building Initiative
S004 = "004"  # UNIDO (2020), The UNIDO Approach to Cluster Development

_P = Param

PARAMETERS: tuple[Param, ...] = (
    # ------------------------------------------------------------------ cluster
    _P("n_firms", "cluster", "int", 60, "Number of firms in the cluster", "firms", 3, 200_000,
       source="000 §Table 2 (Caribbean clusters of tens of firms); 004 §Colombia example (8 consortia, 33 firms)"),
    _P("months", "cluster", "int", 120, "Simulated horizon (one step = one month)", "months", 1, 600,
       source="000 §Cluster Development as a Long-Term Goal (5-10 years plus an after-period)"),
    _P("mean_firm_size", "cluster", "float", 12.0, "Mean employees per firm (log-normal, skewed)", "employees", 1, 1000,
       source="000 §Heterogeneity among cluster members (micro to large)"),
    _P("size_heterogeneity", "cluster", "float", 1.0, "Log-normal sigma of firm size", "-", 0.0, 2.5,
       source="000 §Heterogeneity among cluster members"),
    _P("export_orientation", "cluster", "float", 0.2, "Share of firms exporting at start (larger firms likelier)", "share", 0.0, 1.0,
       source="000 §Heterogeneity among cluster members (exporters vs domestic-only)"),
    _P("digital_access_share", "cluster", "float", 0.7, "Share of firms with digital access", "share", 0.0, 1.0,
       source="000 §Difficulties related with COVID-19; §Lack of resources (infrastructure)"),
    _P("female_owner_share", "cluster", "float", 0.25, "Share of firms with a woman owner-manager", "share", 0.0, 1.0,
       source="000 §The Gender Dimension; 004 §Mainstreaming gender"),
    _P("female_job_share", "cluster", "float", 0.5, "Share of women in the sector's jobs (and in new hires)", "share", 0.0, 1.0,
       source="000 §The Compete Caribbean Cluster Program (about 80% of jobs created held by women)"),
    _P("initial_member_share", "cluster", "float", 0.3, "Share of firms that are cluster members at start", "share", 0.0, 1.0,
       source="000 §Cultural attitude towards collaboration (bedrock of engaged entrepreneurs)"),
    _P("openness", "cluster", "float", 0.5, "How readily outside firms join the cluster organisation", "-", 0.0, 1.0,
       source="000 §Success Factors (open vs closed clusters)"),
    _P("prior_cooperative_share", "cluster", "float", 0.0, "Share of firms that were members of a prior cooperative", "share", 0.0, 1.0,
       source="000 §Cultural attitude towards collaboration (St. Lucia honey cooperative)"),
    _P("seasonality", "cluster", "float", 0.1, "Amplitude of the seasonal revenue cycle", "share", 0.0, 0.5,
       source="000 §Monitoring and Evaluation (seasonality distorts indicators)"),
    # ------------------------------------------------------------------ network
    _P("network_kind", "network", "choice", "small_world", "Structure of the acquaintance network", choices=("small_world", "scale_free", "ring", "complete"),
       source="Watts & Strogatz 1998; Barabasi & Albert 1999; Santos et al. 2008"),
    _P("mean_degree", "network", "int", 6, "Mean number of acquaintance ties per firm (proximity and sector)", "ties", 2, 60,
       source="004 §What are clusters (spatial proximity)"),
    _P("rewiring_prob", "network", "float", 0.1, "Share of ties that reach beyond the local neighbourhood", "prob", 0.0, 1.0,
       source="Watts & Strogatz 1998"),
    _P("latent_tie_share", "network", "float", 0.5, "Potential ties a facilitator can broker, per existing tie", "-", 0.0, 3.0,
       source="004 §Cluster Development Agents (brokering linkages)"),
    # ---------------------------------------------------------------- behaviour
    _P("trust_propensity_mean", "behaviour", "float", 0.25, "Mean trust propensity (low = individualistic culture)", "-", 0.0, 1.0,
       source="000 §Cultural attitude towards collaboration"),
    _P("trust_propensity_sd", "behaviour", "float", 0.1, "Spread of trust propensity across firms", "-", 0.0, 0.5,
       source="000 §Cultural attitude towards collaboration"),
    _P("initial_cooperativeness", "behaviour", "float", 0.5, "Mean initial disposition to contribute to joint actions", "prob", 0.0, 1.0,
       source="004 §The intervention logic (adverse business culture)"),
    _P("initial_motivation", "behaviour", "float", 0.5, "Mean initial motivation of member firms", "-", 0.0, 1.0,
       source="000 §Lack of resources"),
    _P("free_riding_temptation", "behaviour", "float", 0.3, "Weight of 'benefits accrue to others' against contributing", "-", 0.0, 1.0,
       source="000 §Success Factors; 004 §The intervention logic"),
    _P("imitation_rate", "behaviour", "float", 0.2, "Monthly chance a firm compares payoffs with a peer and may copy its disposition", "prob", 0.0, 1.0,
       source="Santos, Santos & Pacheco 2008 (payoff-biased imitation)"),
    _P("selection_intensity", "behaviour", "float", 2.0, "Fermi selection intensity of payoff-biased imitation", "1/k$", 0.0, 50.0,
       source="Szabo & Toke 1998; Santos et al. 2008"),
    _P("trust_weight", "behaviour", "float", 1.0, "Weight of trust and motivation in decisions (0 = plain game)", "-", 0.0, 3.0,
       source="004 §Key principle 4 (social capital)"),
    _P("disillusion_rate", "behaviour", "float", 0.03, "Monthly motivation loss while promised funds have not arrived", "1/month", 0.0, 0.3,
       source="000 §Cluster Development as a Long-Term Goal (Sao Paulo, Rio Negro); §Lack of resources (CED)"),
    _P("motivation_decay", "behaviour", "float", 0.02, "Monthly relaxation of motivation toward the firm's baseline", "1/month", 0.0, 0.3,
       source="000 §Lack of resources"),
    _P("demonstration_effect", "behaviour", "float", 0.5, "Strength of the pull from visible success stories", "-", 0.0, 2.0,
       source="000 §Cultural attitude towards collaboration (success stories)"),
    _P("dropout_threshold", "behaviour", "float", 0.2, "Motivation below which members drop out", "-", 0.0, 0.6,
       source="000 §Cultural attitude towards collaboration (BELTRAIDE)"),
    _P("reengagement_threshold", "behaviour", "float", 0.5, "Motivation a dropped-out firm needs, when contacted, to rejoin", "-", 0.0, 1.0,
       source="000 §Cultural attitude towards collaboration (re-engaging costs effort)"),
    _P("self_organisation_rate", "behaviour", "float", 0.04, "Monthly joint-action proposals per engaged firm, scaled by trust", "1/month", 0.0, 0.5,
       source="000 §BSOs' future objectives (members run projects without the facilitator)"),
    _P("benefit_multiplier", "behaviour", "float", 1.0, "Scales every joint action's benefit multiplier r", "-", 0.0, 5.0,
       source="004 §Collective efficiency"),
    # -------------------------------------------------------------------- trust
    _P("trust_gain", "trust", "float", 0.06, "Trust gained per month of mutual contribution", "1/month", 0.0, 0.5,
       source="000 §Cultural attitude towards collaboration (trust grows with results)"),
    _P("trust_loss", "trust", "float", 0.12, "Trust lost toward a partner who free-rides", "1/month", 0.0, 0.8,
       source="004 §The intervention logic (free riding)"),
    _P("trust_decay", "trust", "float", 0.03, "Monthly decay of trust on ties without contact", "1/month", 0.0, 0.3,
       source="000 §Difficulties related with COVID-19"),
    _P("reputation_weight", "trust", "float", 0.01, "Monthly pull of a tie toward the partners' reputations", "1/month", 0.0, 0.5,
       source="Reputation spreading through the network (brief)"),
    _P("prior_trust", "trust", "float", 0.6, "Initial trust among former cooperative members", "-", 0.0, 1.0,
       source="000 §Cultural attitude towards collaboration (St. Lucia honey)"),
    _P("trusted_threshold", "trust", "float", 0.5, "Trust above which a tie counts as trusted", "-", 0.05, 0.95,
       source="Output definition"),
    # ---------------------------------------------------------------- joint actions
    _P("group_formation", "joint_actions", "choice", "projects", "How groups for joint action form",
       choices=("projects", "random_groups", "neighbourhoods"),
       source="projects: 000 §Benefits of the Cluster Approach; random_groups/neighbourhoods: public goods limit cases"),
    _P("game_group_size", "joint_actions", "int", 5, "Group size in the random_groups limit case", "firms", 2, 50,
       source="Public goods game (well-mixed)"),
    _P("game_multiplier", "joint_actions", "float", 3.0, "Benefit multiplier r in the limit-case games", "-", 0.0, 50.0,
       source="Public goods game"),
    _P("joint_action_cost", "joint_actions", "float", 1.0, "Scale of every joint action's monthly cost per participant", "k$/month", 0.0, 10.0,
       source="004 §The intervention logic (transaction and coordination costs)"),
    # ---------------------------------------------------------------- programme
    _P("programme_start_month", "programme", "int", 0, "Month the programme (cluster plan) is approved", "month", 0, 600, lever=True,
       source="000 §The Compete Caribbean Cluster Program"),
    _P("programme_months", "programme", "int", 0, "Programme duration; 0 means no programme", "months", 0, 600, lever=True,
       source="000 §Cluster Development as a Long-Term Goal (5-10 years)"),
    _P("grant_amount", "programme", "float", 0.0, "Total grant for the cluster plan", "k$", 0.0, 1e7, lever=True,
       source="000 §The Compete Caribbean Cluster Program; §Lack of resources"),
    _P("grant_tranches", "programme", "int", 4, "Number of tranches the grant is paid in", "tranches", 1, 60, lever=True,
       source="000 §The Compete Caribbean Cluster Program"),
    _P("tranche_interval_months", "programme", "int", 12, "Months between tranches", "months", 1, 120, lever=True,
       source="Programme design"),
    _P("disbursement_delay_months", "programme", "int", 0, "Months from approval to the first disbursement", "months", 0, 120, lever=True,
       source="000 §Cluster Development as a Long-Term Goal (Sao Paulo, Rio Negro)"),
    _P("cofunding_share", "programme", "float", 0.2, "Share of a funded joint action's cost that firms pay", "share", 0.0, 1.0, lever=True,
       source="000 §The Role of Cluster Organizations (co-funding from the private sector)"),
    _P("firm_training_share", "programme", "float", 0.0, "Share of member firms given firm training", "share", 0.0, 1.0, lever=True,
       source="000 §Benefits of the Cluster Approach; 004 §Implementation"),
    _P("firm_training_month", "programme", "int", 12, "Month of firm training (after approval)", "month", 0, 600, lever=True,
       source="Programme design"),
    _P("firm_training_cost", "programme", "float", 1.0, "Cost per trained firm", "k$/firm", 0.0, 100.0, lever=True,
       source="Programme design"),
    _P("monitoring_intensity", "programme", "float", 0.3, "Monitoring effort: better targeting against reporting burden", "-", 0.0, 1.0, lever=True,
       source="000 §Monitoring and Evaluation (80% find collection hard)"),
    _P("monitoring_burden", "programme", "float", 0.01, "Monthly motivation cost of full-intensity reporting", "1/month", 0.0, 0.1,
       source="000 §Monitoring and Evaluation"),
    _P("regional_exchange_interval_months", "programme", "int", 0, "Months between regional exchange visits; 0 = none", "months", 0, 120, lever=True,
       source="000 §Regional Ecosystem"),
    # ---------------------------------------------------------------------- bso
    _P("bso_staff", "bso", "int", 2, "Staff working on the cluster at the BSO", "persons", 0, 50, lever=True,
       source="000 §BSOs' future objectives (one or two people)"),
    _P("bso_training_staff", "bso", "int", 0, "BSO staff sent to cluster training", "persons", 0, 50, lever=True,
       source="000 §Improvement of cluster knowledge through training programs"),
    _P("bso_training_start_month", "bso", "int", 0, "Month the first training block starts (after approval)", "month", 0, 600, lever=True,
       source="000 §Improvement of cluster knowledge through training programs"),
    _P("bso_training_blocks", "bso", "int", 1, "Blocks the training is split into (1 = one block)", "blocks", 1, 24, lever=True,
       source="000 §BSOs' future objectives (webinars spread over two months)"),
    _P("bso_training_interval_months", "bso", "int", 2, "Months of practice between training blocks", "months", 1, 24, lever=True,
       source="000 §BSOs' future objectives"),
    _P("bso_training_intensity", "bso", "float", 3.0, "Total training content, in units of the absorption constant", "-", 0.0, 20.0, lever=True,
       source="000 §Tables 4-7"),
    _P("bso_training_cost", "bso", "float", 5.0, "Cost of training one BSO officer", "k$/person", 0.0, 100.0, lever=True,
       source="Programme design"),
    _P("bso_turnover_rate", "bso", "float", 0.01, "Monthly probability that a trained officer leaves", "1/month", 0.0, 0.5, lever=True,
       source="000 §BSOs' future objectives (JMEA)"),
    # ------------------------------------------------------------------ manager
    _P("manager_present", "manager", "bool", False, "A cluster manager is hired once funds flow", lever=True,
       source="000 §Cluster managers; 004 §Cluster Development Agents"),
    _P("manager_skill", "manager", "float", 0.6, "Facilitation skill of the cluster manager", "-", 0.0, 1.0, lever=True,
       source="004 §Cluster Development Agents"),
    _P("manager_contacts_per_month", "manager", "int", 10, "Firms the manager can meet per month", "firms/month", 0, 5000, lever=True,
       source="000 §Cluster managers (attention is limited)"),
    _P("manager_mode", "manager", "choice", "face_to_face", "How the manager meets firms", choices=("face_to_face", "online"), lever=True,
       source="000 §Difficulties related with COVID-19"),
    _P("manager_cost_per_month", "manager", "float", 3.0, "Monthly cost of the cluster manager", "k$/month", 0.0, 100.0, lever=True,
       source="Programme design"),
    # ------------------------------------------------------------------ leaders
    _P("leader_firms", "leaders", "int", 0, "Number of engaged leading firms (the largest firms)", "firms", 0, 10_000, lever=True,
       source="000 §Cultural attitude towards collaboration (critical mass of driving firms)"),
    _P("leader_commitment", "leaders", "float", 0.8, "Floor on leaders' motivation and disposition to contribute", "-", 0.0, 1.0, lever=True,
       source="000 §Cultural attitude towards collaboration"),
    _P("leader_mentoring", "leaders", "float", 0.0, "Intensity of leaders' mentoring of small neighbouring firms", "-", 0.0, 1.0, lever=True,
       source="000 §Heterogeneity among cluster members (JMEA export mentoring)"),
    # ------------------------------------------------------------------- shocks
    _P("pandemic_start_month", "shocks", "int", 6, "Month a pandemic removes face-to-face contact", "month", 0, 600, lever=True,
       source="000 §Difficulties related with COVID-19"),
    _P("pandemic_months", "shocks", "int", 0, "Length of the pandemic; 0 = none", "months", 0, 600, lever=True,
       source="000 §Difficulties related with COVID-19"),
    _P("online_effectiveness", "shocks", "float", 0.3, "Effect of an online contact relative to face-to-face", "-", 0.0, 1.0,
       source="000 §Difficulties related with COVID-19 (messages read, not answered)"),
    _P("isolation_motivation_loss", "shocks", "float", 0.03, "Monthly motivation loss of idle members without face-to-face contact, scaled by their distrust", "1/month", 0.0, 0.3,
       source="000 §Difficulties related with COVID-19 (keeping members interested)"),
    _P("hurricane_month", "shocks", "int", 36, "Month a hurricane strikes", "month", 0, 600, lever=True,
       source="000 §The Environmental Dimension"),
    _P("hurricane_capital_loss", "shocks", "float", 0.0, "Share of capital a hurricane destroys; 0 = none", "share", 0.0, 1.0, lever=True,
       source="000 §The Environmental Dimension"),
    # ------------------------------------------------------------------ economy
    _P("revenue_gain_scale", "economy", "float", 1.0, "Scales productivity gains from successful joint actions", "-", 0.0, 10.0,
       source="Calibrated to 000 §The Compete Caribbean Cluster Program (revenue +40%)"),
    _P("export_gain_scale", "economy", "float", 1.0, "Scales export gains from successful joint export actions", "-", 0.0, 10.0,
       source="Calibrated to 000 §The Compete Caribbean Cluster Program (exports +23%)"),
    _P("jobs_elasticity", "economy", "float", 0.6, "Elasticity of employment to firm output", "-", 0.0, 1.5,
       source="Calibrated to 004 §Colombia example (employment +14%)"),
)

BY_NAME: dict[str, Param] = {p.name: p for p in PARAMETERS}
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(p.section for p in PARAMETERS))


def defaults() -> dict[str, object]:
    """Default value of every parameter, keyed by name."""
    return {p.name: p.default for p in PARAMETERS}


def numeric_parameters() -> list[Param]:
    """Every int or float parameter (the factor list of a Morris screening)."""
    return [p for p in PARAMETERS if p.kind in ("int", "float")]


def levers() -> list[Param]:
    """Every policy lever."""
    return [p for p in PARAMETERS if p.lever]


def markdown_table() -> str:
    """The parameter table for docs/ODD.md, generated from the registry."""
    rows = ["| section | name | meaning | default | allowed | unit | source |", "|---|---|---|---|---|---|---|"]
    for p in PARAMETERS:
        rows.append(
            f"| {p.section} | `{p.name}` | {p.meaning} | `{p.default}` | {p.allowed()} | {p.unit} | {p.source} |"
        )
    return "\n".join(rows)
