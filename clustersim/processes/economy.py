"""Economy (docs/ODD.md, "Process overview": step 17; SF16, SF17).

Successful joint actions raise productivity (domestic and export sales separately), capability
and export readiness (see completion); here capital recovers after a hurricane, and the cluster's
revenue, exports, jobs and management positions are totalled for the outputs.
"""

from __future__ import annotations

import numpy as np

from ..cluster_state import ClusterState
from .rules import benefit_weights, export_share


def refresh_benefit_weights(s: ClusterState) -> None:
    """Recompute benefit weights after capability, export readiness or experience changed (each firm with
    its cluster's coefficients)."""
    f = s.firms
    f.weights = benefit_weights(
        s.types, s.coef_for("firm"), f.size_rank, f.export_readiness, f.experience, s.firm_cluster
    )


def recover_capital(s: ClusterState) -> None:
    """Firms rebuild a share ``capital_recovery_rate`` of lost capital each month."""
    f = s.firms
    f.capital += s.coef_for("firm").capital_recovery_rate * (1.0 - f.capital)


def economy_totals(s: ClusterState) -> dict[str, float]:
    """Revenue, exports, jobs and management positions of the whole cluster (k$/month, persons)."""
    f, c = s.firms, s.coef
    # domestic and export sales grow separately: joint export raises export sales, joint
    # marketing and production mainly domestic ones
    domestic = f.revenue0 * (1.0 - f.export_share0) * f.productivity * f.capital
    exports = f.revenue0 * export_share(c, f.export_readiness) * f.export_productivity * f.capital
    revenue = domestic + exports
    jobs = f.size * (revenue / f.revenue0) ** c.jobs_elasticity
    new_jobs = np.maximum(jobs - f.size, 0.0)
    women_jobs = jobs * f.female_job_share
    managers = 1.0 + f.size / c.employees_per_manager  # the owner-manager plus hired managers
    women_managers = f.female_owner * 1.0 + (managers - 1.0) * f.female_job_share * c.women_management_factor
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
