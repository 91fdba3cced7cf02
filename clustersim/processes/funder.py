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

import numpy as np

from ..cluster_state import ClusterState


def tranche_approved(s: ClusterState, due: np.ndarray) -> np.ndarray:
    """Decide the clusters' due tranches; conditional decisions are logged with the report and the truth."""
    c, tranche = s.coef, s.funder.next_tranche
    if c.tranche_condition == "none":
        return due.copy()
    conditional = due & (tranche > 0)
    reported = s.report["reported_cooperation"]
    with np.errstate(invalid="ignore"):  # no report (nan): no money
        released = ~np.isnan(reported) & (reported >= c.tranche_milestone)
    if conditional.any():
        k = np.flatnonzero(conditional)
        s.funder.log.append(
            {
                "cluster": k,
                "month": np.full(k.size, s.month),
                "tranche": tranche[k],
                "indicator": np.full(k.size, c.tranche_condition, dtype=object),
                "milestone": np.broadcast_to(c.tranche_milestone, (s.K,))[k],
                "reported": reported[k],
                "true": s.report["true_cooperation"][k],
                "responders": s.report["responders"][k],
                "released": released[k],
            }
        )
    return due & (released | (tranche == 0))


def release_tranches(s: ClusterState) -> None:
    """Pay every tranche that is due and approved, in order; a cluster stops at its first one withheld."""
    cal, funder = s.calendar, s.funder
    deciding = s.programme_on.copy()
    while True:  # at most one round per tranche, never one per cluster
        pending = deciding & (funder.next_tranche < cal.n_disbursements)
        if not pending.any():  # every tranche paid (or no programme running): nothing falls due
            return
        col = np.minimum(funder.next_tranche, cal.disbursements.shape[1] - 1)
        due = pending & (cal.disbursements[np.arange(s.K), col] <= s.month)
        if not due.any():
            return
        approved = tranche_approved(s, due)
        s.ledger.disburse(np.where(approved, s.coef.grant_amount / s.coef.grant_tranches, 0.0))
        funder.next_tranche += approved
        deciding = approved


def support_gap(s: ClusterState) -> tuple[np.ndarray, np.ndarray]:
    """The gap between the support members were promised by now and what they received (SF3, SF4), per cluster.

    Returns the unpaid share of what was promised by now, ``(expected - received) / expected``, and
    how many months the oldest unpaid promised tranche is overdue (counting its due month as one).
    A plan never funded is a gap of 1 from the first promised month; a delay is a gap of 1 that
    shrinks as late tranches arrive and closes when they have caught up; no programme, or a plan
    promised small and paid as promised, is no gap.
    """
    cal, c = s.calendar, s.coef
    per_tranche = c.grant_amount / c.grant_tranches
    due = (cal.promised <= s.month).sum(axis=1)  # padded with NEVER: counts only real tranches
    expected = due * per_tranche
    missing = expected - s.ledger.disbursed
    gap_open = s.programme_on & (cal.n_promised > 0) & (missing > 1e-9)  # rounding margin on k$ sums
    if not gap_open.any():  # every cluster paid as promised (or without a programme): no gap anywhere
        return np.zeros(s.K), np.zeros(s.K)
    col = np.minimum(s.funder.next_tranche, np.maximum(cal.n_promised - 1, 0))
    oldest_unpaid = cal.promised[np.arange(s.K), col]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(gap_open, missing / expected, 0.0)
    return share, np.where(gap_open, (s.month - oldest_unpaid + 1).astype(float), 0.0)
