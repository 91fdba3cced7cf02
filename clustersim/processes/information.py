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
from ..queries import cooperating
from ..streams import Site


def update_information(s: ClusterState) -> None:
    """Pay for this month's monitoring; information quality = intensity x the engaged firms' mean motivation."""
    f, c = s.firms, s.coef
    engaged = f.engaged
    s.monitoring_on = False
    s.information_quality = 0.0
    if not s.programme_on or c.monitoring_intensity == 0:
        return
    cost = c.monitoring_cost_per_month * c.monitoring_intensity
    if not s.ledger.can_pay("monitoring", cost):
        s.ledger.shortfall["monitoring"] += cost  # no money, no data collection this month
        return
    s.ledger.pay("monitoring", cost)
    s.monitoring_on = True
    if engaged.any():
        s.information_quality = c.monitoring_intensity * float(f.motivation[engaged].mean())


def responders(s: ClusterState) -> np.ndarray:
    """Which firms answer: engaged firms (disengaged ones at ``monitoring_disengaged_response`` of the chance),
    with a chance that rises with the monitoring intensity and (by ``monitoring_response_motivation_weight``) their motivation. Draws from the monitoring stream only, so measuring never perturbs dynamics."""
    c, f = s.coef, s.firms
    if not s.monitoring_on:
        return np.zeros(f.n, dtype=bool)
    weight = c.monitoring_response_motivation_weight
    willing = (1.0 - weight) + weight * f.motivation  # at weight 1 exactly the motivation
    chance = (c.monitoring_base_response + c.monitoring_response_slope * c.monitoring_intensity) * willing
    reachable = np.where(f.engaged, 1.0, c.monitoring_disengaged_response)
    # one draw per firm whatever the weights, so the monitoring stream does not shift between settings
    return s.draws.uniform(Site.MONITORING, f.n) < chance * reachable


def report_monitoring(s: ClusterState) -> None:
    """This month's report: the share cooperating among responders, beside the true share."""
    coop = cooperating(s)
    who = responders(s)
    s.report = {
        "responders": int(who.sum()),
        "reported_cooperation": float(coop[who].mean()) if who.any() else math.nan,
        "true_cooperation": float(coop.mean()),
    }


def classify(c, cooperation: float, innovation: float, openness: float) -> str:
    """Typology of clusters (000 §Success Factors; SF13).

    Innovative: high cooperation, innovation and openness. Sluggish: low cooperation, or weak
    innovation in a closed cluster. Rising: everything between (an early-stage, open cluster).
    """
    if (
        cooperation >= c.innovative_min_cooperation
        and innovation >= c.innovative_min_innovation
        and openness >= c.innovative_min_openness
    ):
        return "innovative"
    if cooperation < c.sluggish_max_cooperation or (
        innovation < c.sluggish_max_innovation and openness < c.sluggish_max_openness
    ):
        return "sluggish"
    return "rising"


def openness_index(s: ClusterState) -> float:
    """Openness: the mean of the exporter share and the share of firms that joined after the start."""
    f = s.firms
    return (float(f.exporter.mean()) + float(f.joined_later.mean())) / 2


def classify_yearly(s: ClusterState) -> None:
    """Every 12 months, record the cluster's class (SF13)."""
    if s.month % s.coef.typology_interval_months:
        return
    f = s.firms
    innovation = float((f.capability - f.capability0).mean())
    s.typology_path.append((s.month, classify(s.coef, float(cooperating(s).mean()), innovation, openness_index(s))))
