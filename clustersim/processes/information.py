"""Information and monitoring (docs/ODD.md, "Process overview": steps 5, 19 and 20; SF13, SF15).

Monitoring costs money (its budget line) and effort (the burden on firms). When it runs,
facilitators target better, and at the end of the month engaged firms report; the report is only
as good as the response, since disengaged firms withhold data (000 §Monitoring and Evaluation).
The funder decides on that report. Every 12 months the cluster is classified (SF13).
"""

from __future__ import annotations

import math

import numpy as np

from ..cluster_state import ClusterState
from ..queries import cooperating, waiting_for_first_tranche
from ..streams import Site


def update_information(s: ClusterState) -> None:
    """Pay for this month's monitoring; information quality = intensity x the engaged firms' mean motivation."""
    f, c = s.firms, s.coef
    s.monitoring_on[:] = False
    s.information_quality[:] = 0.0
    monitoring = s.programme_on & (np.asarray(c.monitoring_intensity) != 0)  # clusters that monitor at all
    monitoring &= ~waiting_for_first_tranche(s)  # a programme that waits for its money pays for no data before it
    if not monitoring.any():
        return
    cost = c.monitoring_cost_per_month * c.monitoring_intensity
    paid = monitoring & s.ledger.can_pay("monitoring", cost)
    # (an account that records or pays nothing stays as it is: the calls are skipped where none would act)
    unpaid = monitoring & ~paid
    if unpaid.any():
        s.ledger.record_shortfall("monitoring", cost, unpaid)  # no money, no data collection
    if paid.any():
        s.ledger.pay("monitoring", cost, where=paid)
    s.monitoring_on[:] = paid
    engaged = f.engaged
    quality = c.monitoring_intensity * s.reduce.mean(f.motivation, "firm", where=engaged, empty=0.0)
    s.information_quality[:] = np.where(paid & s.reduce.any(engaged, "firm"), quality, 0.0)


def responders(s: ClusterState) -> np.ndarray:
    """Which firms answer: engaged firms (disengaged ones at ``monitoring_disengaged_response`` of the chance),
    with a chance that rises with the monitoring intensity and (by ``monitoring_response_motivation_weight``) their motivation. Draws from the monitoring stream only, so measuring never perturbs dynamics."""
    c, f = s.coef_for("firm"), s.firms
    if not s.monitoring_on.any():
        return np.zeros(f.n, dtype=bool)
    weight = c.monitoring_response_motivation_weight
    willing = (1.0 - weight) + weight * f.motivation  # at weight 1 exactly the motivation
    chance = (c.monitoring_base_response + c.monitoring_response_slope * c.monitoring_intensity) * willing
    reachable = np.where(f.engaged, 1.0, c.monitoring_disengaged_response)
    # one draw per firm whatever the weights, so the monitoring stream does not shift between settings
    answer = s.draws.uniform(Site.MONITORING, f.n) < chance * reachable
    return answer if s.monitoring_on.all() else answer & s.per_firm(s.monitoring_on)


def report_monitoring(s: ClusterState) -> None:
    """This month's report: the share cooperating among responders, beside the true share."""
    coop = cooperating(s)
    who = responders(s)
    s.report["responders"][:] = s.tally(who)
    s.report["reported_cooperation"][:] = s.reduce.mean(coop, "firm", where=who, empty=math.nan)
    s.report["true_cooperation"][:] = s.reduce.mean(coop, "firm")


def classify(c, cooperation, innovation, openness) -> np.ndarray:
    """Typology of clusters (000 §Success Factors; SF13), for one cluster or an array of them.

    Innovative: high cooperation, innovation and openness. Sluggish: low cooperation, or weak
    innovation in a closed cluster. Rising: everything between (an early-stage, open cluster).
    """
    innovative = (
        (cooperation >= c.innovative_min_cooperation)
        & (innovation >= c.innovative_min_innovation)
        & (openness >= c.innovative_min_openness)
    )
    sluggish = (cooperation < c.sluggish_max_cooperation) | (
        (innovation < c.sluggish_max_innovation) & (openness < c.sluggish_max_openness)
    )
    return np.select([innovative, sluggish], ["innovative", "sluggish"], "rising").astype(object)


def openness_index(s: ClusterState) -> np.ndarray:
    """Openness: the mean of the exporter share and the share of firms that joined after the start."""
    f = s.firms
    exporter = f.export_readiness >= s.per_firm(f.exporter_threshold)
    return (s.reduce.mean(exporter, "firm") + s.reduce.mean(f.joined_later, "firm")) / 2


def classify_yearly(s: ClusterState) -> None:
    """Every ``typology_interval_months`` months, record each cluster's class (SF13); None for a cluster
    whose interval does not fall in this month."""
    due = s.month % np.asarray(s.coef.typology_interval_months) == 0
    if not due.any():
        return
    f = s.firms
    innovation = s.reduce.mean(f.capability - f.capability0, "firm")
    cooperation = s.reduce.mean(cooperating(s), "firm")
    classes = classify(s.coef, cooperation, innovation, openness_index(s))
    s.typology_path.append((s.month, np.where(np.broadcast_to(due, (s.K,)), classes, None)))
