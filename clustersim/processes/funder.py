"""The funder (docs/ODD.md, "Funder"; SF3, SF4, SF15).

Grant tranches fall due on the calendar (late if the funder is late; never if the plan is not
funded). Unconditional tranches are paid when due. Conditional tranches (``tranche_condition``),
every one after the first, are paid only if the latest monitoring report meets the milestone; a
withheld tranche is reconsidered each month while the programme runs. The report is what
responding firms said (``information.report_monitoring``), so the decision can misfire: withhold
from a cluster doing fine, or pay one that only looks fine. Every decision is logged with the true
state behind it (000 §Monitoring and Evaluation).
"""

from __future__ import annotations

import math

from ..cluster_state import ClusterState


def tranche_approved(s: ClusterState, tranche: int) -> bool:
    """Decide one due tranche; conditional decisions are logged with the report and the truth."""
    c = s.coef
    if c.tranche_condition == "none" or tranche == 0:
        return True
    reported = s.report.get("reported_cooperation", math.nan)
    released = not math.isnan(reported) and reported >= c.tranche_milestone  # no report, no money
    s.funder.decisions.append(
        {
            "month": s.month,
            "tranche": tranche,
            "indicator": c.tranche_condition,
            "milestone": c.tranche_milestone,
            "reported": reported,
            "true": s.report.get("true_cooperation", math.nan),
            "responders": s.report.get("responders", 0),
            "released": released,
        }
    )
    return released


def release_tranches(s: ClusterState) -> None:
    """Pay every tranche that is due and approved, in order; stop at the first one withheld."""
    cal, funder = s.calendar, s.funder
    if not s.programme_on:
        return
    while funder.next_tranche < len(cal.disbursements) and cal.disbursements[funder.next_tranche] <= s.month:
        if not tranche_approved(s, funder.next_tranche):
            return
        s.ledger.disburse(s.coef.grant_amount / s.coef.grant_tranches)
        funder.next_tranche += 1


def support_gap(s: ClusterState) -> tuple[float, float]:
    """The gap between the support members were promised by now and what they received (SF3, SF4).

    Returns the unpaid share of what was promised by now, ``(expected - received) / expected``, and
    how many months the oldest unpaid promised tranche is overdue (counting its due month as one).
    A plan never funded is a gap of 1 from the first promised month; a delay is a gap of 1 that
    shrinks as late tranches arrive and closes when they have caught up; no programme, or a plan
    promised small and paid as promised, is no gap.
    """
    cal, c = s.calendar, s.coef
    if not s.programme_on or not cal.promised:
        return 0.0, 0.0
    per_tranche = c.grant_amount / c.grant_tranches
    due = sum(1 for m in cal.promised if m <= s.month)  # a handful of tranches, not firms
    missing = due * per_tranche - s.ledger.disbursed
    if missing <= 1e-9:  # rounding margin on k$ sums
        return 0.0, 0.0
    oldest_unpaid = cal.promised[min(s.funder.next_tranche, len(cal.promised) - 1)]
    return missing / (due * per_tranche), float(s.month - oldest_unpaid + 1)
