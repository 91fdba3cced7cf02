"""The policy calendar (what happens in which month) and the programme's budget ledger."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .scenario import Scenario

#: The programme's budget lines. Co-financing of joint actions is the grant (``grant_amount``), paid in
#: tranches into the cluster account; every other line is paid by the funder as its service is delivered.
LINES = (
    "manager",
    "bso_training",
    "firm_training",
    "cofinancing",
    "monitoring",
    "regional_exchange",
    "leader_incentive",
)
#: the registry key that allocates each line
LINE_KEYS = {
    "manager": "budget_manager",
    "bso_training": "budget_bso_training",
    "firm_training": "budget_firm_training",
    "cofinancing": "grant_amount",
    "monitoring": "budget_monitoring",
    "regional_exchange": "budget_regional_exchange",
    "leader_incentive": "budget_leader_incentive",
}


def tranche_months(start: int, delay: int, interval: int, tranches: int, end: int) -> tuple[int, ...]:
    """Months of the grant tranches: the first ``delay`` months after ``start``, then every ``interval``."""
    first = start + delay
    return tuple(m for m in (first + k * interval for k in range(tranches)) if m < end)


@dataclass(frozen=True)
class PolicyCalendar:
    """Months of every scheduled event, derived once from a scenario.

    Month ``m`` is the step that takes the cluster from month ``m`` to ``m+1``. ``promised`` is the
    tranche schedule the approved plan announced; ``disbursements`` is when tranches fall due in
    fact (later if the funder is late, empty if the plan is never funded).
    """

    programme_start: int
    programme_end: int  # first month after the programme (== start when there is none)
    disbursements: tuple[int, ...]
    promised: tuple[int, ...]
    training_blocks: tuple[int, ...]
    firm_training: int | None
    pandemic: tuple[int, int] | None  # [start, end)
    hurricane: int | None
    regional_exchanges: tuple[int, ...]
    #: first month the programme pays for services (manager, training, monitoring, exchanges, incentives): its
    #: start, or its first tranche if it waits for its money (the programme's end if no tranche ever comes)
    services_start: int

    @classmethod
    def from_scenario(cls, s: Scenario) -> PolicyCalendar:
        start = s.programme_start_month
        has_programme = s.programme_months > 0
        end = start + s.programme_months
        disb: tuple[int, ...] = ()
        promised: tuple[int, ...] = ()
        if has_programme and s.grant_amount > 0:
            promised = tranche_months(
                start, s.promised_disbursement_delay_months, s.tranche_interval_months, s.grant_tranches, end
            )
            if s.plan_funded:
                disb = tranche_months(
                    start, s.disbursement_delay_months, s.tranche_interval_months, s.grant_tranches, end
                )
        # A programme that waits for its money holds the services it pays for until the first outlay of funds
        # (000 "Cluster Development as a Long-Term Goal": delays between programme design and the first outlay of
        # funds): their months count from the first tranche, not from approval. Without a tranche (no grant, a
        # plan never funded, a delay past the end) it never pays for any.
        services = start
        if has_programme and s.programme_waits_for_first_tranche:
            services = disb[0] if disb else end
        blocks: tuple[int, ...] = ()
        if has_programme and s.bso_training_staff > 0 and s.bso_training_intensity > 0:
            b0 = services + s.bso_training_start_month
            blocks = tuple(
                m for m in (b0 + b * s.bso_training_interval_months for b in range(s.bso_training_blocks)) if m < end
            )
        firm_training = None
        if has_programme and s.firm_training_share > 0 and services + s.firm_training_month < end:
            firm_training = services + s.firm_training_month
        pandemic = None
        if s.pandemic_months > 0:
            pandemic = (s.pandemic_start_month, s.pandemic_start_month + s.pandemic_months)
        hurricane = s.hurricane_month if s.hurricane_capital_loss > 0 else None
        exchanges: tuple[int, ...] = ()
        if has_programme and s.regional_exchange_interval_months > 0:
            exchanges = tuple(
                range(services + s.regional_exchange_interval_months, end, s.regional_exchange_interval_months)
            )
        return cls(
            start,
            end if has_programme else start,
            disb,
            promised,
            blocks,
            firm_training,
            pandemic,
            hurricane,
            exchanges,
            services,
        )

    @property
    def has_programme(self) -> bool:
        return self.programme_end > self.programme_start

    def programme_active(self, month: int) -> bool:
        return self.programme_start <= month < self.programme_end

    def pandemic_active(self, month: int) -> bool:
        return self.pandemic is not None and self.pandemic[0] <= month < self.pandemic[1]

    def markers(self) -> list[tuple[int, str]]:
        """(month, label) pairs for vertical event markers on time-series plots."""
        out: list[tuple[int, str]] = []
        if self.has_programme:
            out.append((self.programme_start, "funding approved"))
            out.append((self.programme_end, "programme end"))
        if self.disbursements:
            out.append((self.disbursements[0], "first disbursement due"))
        out += [(m, "training block") for m in self.training_blocks]
        if self.pandemic:
            out += [(self.pandemic[0], "shock start"), (self.pandemic[1], "shock end")]
        if self.hurricane is not None:
            out.append((self.hurricane, "hurricane"))
        return sorted(out)


def line_allocations(s: Scenario) -> dict[str, float]:
    """What each budget line may spend; nothing when there is no programme or the plan is never funded."""
    if s.programme_months == 0 or not s.plan_funded:
        return dict.fromkeys(LINES, 0.0)
    return {line: float(s[key]) for line, key in LINE_KEYS.items()}


def committed_budget(s: Scenario) -> float:
    """The programme's budget: ``programme_budget`` if set, else the sum of its lines' allocations."""
    return float(s.programme_budget) or sum(line_allocations(s).values())


#: a month no event falls in: pads the per-cluster event lists of a batch to one width
NEVER = np.iinfo(np.int64).max


def _padded(rows: Sequence[Sequence[int]]) -> np.ndarray:
    """Months per cluster as a (K, width) array padded with ``NEVER`` (width at least 1)."""
    width = max([len(r) for r in rows] + [1])
    out = np.full((len(rows), width), NEVER, dtype=np.int64)
    for k, row in enumerate(rows):  # once per cluster at set-up, not in the monthly step
        out[k, : len(row)] = row
    return out


@dataclass(frozen=True)
class CalendarArrays:
    """The policy calendars of K clusters as arrays, for the monthly step (one row per cluster).

    Event lists are padded with ``NEVER``; a missing single event (firm training, hurricane) is -1, a
    missing pandemic is (-1, -1). ``clusters`` keeps each cluster's ``PolicyCalendar`` for readers.
    """

    clusters: tuple[PolicyCalendar, ...]
    programme_start: np.ndarray  # (K,)
    programme_end: np.ndarray  # (K,)
    disbursements: np.ndarray  # (K, T) padded
    n_disbursements: np.ndarray  # (K,)
    promised: np.ndarray  # (K, T') padded
    n_promised: np.ndarray  # (K,)
    training_blocks: np.ndarray  # (K, B) padded
    regional_exchanges: np.ndarray  # (K, R) padded
    firm_training: np.ndarray  # (K,), -1 for none
    hurricane: np.ndarray  # (K,), -1 for none
    pandemic: np.ndarray  # (K, 2), [start, end); (-1, -1) for none
    services_start: np.ndarray  # (K,)

    @classmethod
    def stack(cls, calendars: Sequence[PolicyCalendar]) -> CalendarArrays:
        def ints(values):
            return np.array(values, dtype=np.int64)

        return cls(
            clusters=tuple(calendars),
            programme_start=ints([c.programme_start for c in calendars]),
            programme_end=ints([c.programme_end for c in calendars]),
            disbursements=_padded([c.disbursements for c in calendars]),
            n_disbursements=ints([len(c.disbursements) for c in calendars]),
            promised=_padded([c.promised for c in calendars]),
            n_promised=ints([len(c.promised) for c in calendars]),
            training_blocks=_padded([c.training_blocks for c in calendars]),
            regional_exchanges=_padded([c.regional_exchanges for c in calendars]),
            firm_training=ints([-1 if c.firm_training is None else c.firm_training for c in calendars]),
            hurricane=ints([-1 if c.hurricane is None else c.hurricane for c in calendars]),
            pandemic=ints([c.pandemic or (-1, -1) for c in calendars]),
            services_start=ints([c.services_start for c in calendars]),
        )

    @property
    def K(self) -> int:
        return int(self.programme_start.size)

    def programme_active(self, month: int) -> np.ndarray:
        return (self.programme_start <= month) & (month < self.programme_end)

    def pandemic_active(self, month: int) -> np.ndarray:
        return (self.pandemic[:, 0] <= month) & (month < self.pandemic[:, 1])

    @staticmethod
    def falls_in(months: np.ndarray, month: int) -> np.ndarray:
        """Which clusters have an event of the (K, width) list ``months`` in ``month``."""
        return (months == month).any(axis=1)


@dataclass
class Ledger:
    """Programme money in k$, by budget line, for K clusters (docs/ODD.md, "Budget").

    The funder commits one budget split into named lines. Co-financing is the grant, paid in tranches
    into the cluster account (``bso_cash``) and from there to firms; every other line is paid by the
    funder as its service is delivered. A payment never exceeds what is left on its line (nor, for
    co-financing, the cash in the account): what cannot be afforded does not happen, and ``shortfall``
    records what was wanted but not paid, by line.

    Line arrays are (K, len(LINES)) in ``LINES`` order; the rest are (K,). ``cluster(k)`` reads one
    cluster's ledger with the old names (``spent["manager"]``, ``remaining(line)``, ...).

    Invariants (tested): ``spent[line] <= allocation[line]``; ``programme_cost == sum(spent) <= budget``;
    ``disbursed == bso_cash + spent["cofinancing"]``.
    """

    allocation: np.ndarray
    budget: np.ndarray
    spent: np.ndarray
    shortfall: np.ndarray
    disbursed: np.ndarray
    bso_cash: np.ndarray
    firm_own_contributions: np.ndarray  # firms' private money (co-funding and unfunded actions)
    firm_fees: np.ndarray  # membership fees firms paid to the cluster association
    # share of the grant's part of co-financed costs the account paid the last month it was asked (1 until a
    # spending plan rations it): what members expect the grant to cover (``queries.own_cost_share``)
    cofinancing_cover: np.ndarray

    @classmethod
    def from_scenarios(cls, scenarios: Sequence[Scenario]) -> Ledger:
        K = len(scenarios)
        allocation = np.array([[line_allocations(s)[line] for line in LINES] for s in scenarios], dtype=float)
        zeros = np.zeros(K)
        return cls(
            allocation=allocation.reshape(K, len(LINES)),
            budget=np.array([committed_budget(s) for s in scenarios], dtype=float),
            spent=np.zeros((K, len(LINES))),
            shortfall=np.zeros((K, len(LINES))),
            disbursed=zeros.copy(),
            bso_cash=zeros.copy(),
            firm_own_contributions=zeros.copy(),
            firm_fees=zeros.copy(),
            cofinancing_cover=np.ones(K),
        )

    @classmethod
    def from_scenario(cls, s: Scenario) -> Ledger:
        return cls.from_scenarios([s])

    def remaining(self, line: str) -> np.ndarray:
        j = LINE_INDEX[line]
        return self.allocation[:, j] - self.spent[:, j]

    def disburse(self, amount) -> None:
        """Grant tranches reach the cluster accounts (0 where none is paid)."""
        self.disbursed += amount
        self.bso_cash += amount

    def pay(self, line: str, amount, where=None) -> np.ndarray:
        """Pay up to ``amount`` from ``line`` in the clusters ``where`` selects (all by default); returns
        what each cluster paid (the rest of its amount is a shortfall)."""
        j = LINE_INDEX[line]
        # a scalar amount stays a scalar: every step below broadcasts it against the (K,) lines anyway
        amount = np.maximum(amount, 0.0)
        if where is not None:
            amount = np.where(where, amount, 0.0)
        available = self.remaining(line)
        if line == "cofinancing":
            available = np.minimum(available, self.bso_cash)
        paid = np.minimum(amount, np.maximum(available, 0.0))
        self.spent[:, j] += paid
        self.shortfall[:, j] += amount - paid
        if line == "cofinancing":
            self.bso_cash -= paid
            # a rounding residue is spent, not cash that keeps co-financing "on"
            residue = self.bso_cash < 1e-9
            if where is not None:
                residue &= where
            self.spent[:, j] += np.where(residue, self.bso_cash, 0.0)
            self.bso_cash[residue] = 0.0
        return paid

    def can_pay(self, line: str, amount) -> np.ndarray:
        return self.remaining(line) >= amount - 1e-9  # rounding margin on k$ sums

    def record_shortfall(self, line: str, amount, where) -> None:
        """What was wanted but not paid (the service did not happen)."""
        self.shortfall[:, LINE_INDEX[line]] += np.where(where, amount, 0.0)

    @property
    def programme_cost(self) -> np.ndarray:
        """Money the programme actually spent (not cash still in the account)."""
        return _sum_lines(self.spent)

    @property
    def funder_paid(self) -> np.ndarray:
        """Money that left the funder: tranches paid into the account plus every directly paid line."""
        direct = [j for j, line in enumerate(LINES) if line != "cofinancing"]
        return self.disbursed + _sum_lines(self.spent[:, direct])

    def cluster(self, k: int) -> LedgerView:
        return LedgerView(self, k)


LINE_INDEX = {line: j for j, line in enumerate(LINES)}


#: up to this many clusters the ledger's totals are summed row by row in Python (cheaper than array steps)
FEW_CLUSTERS = 16


def _sum_lines(lines: np.ndarray) -> np.ndarray:
    """Row sums exactly as Python's ``sum()`` adds a dict of lines: since Python 3.12 it sums floats with
    Neumaier's compensation (Neumaier 1974, ZAMM 54: 39-51; CPython ``builtin_sum_impl``), which a plain
    left-to-right sum does not reproduce in the last bit. Vectorised over clusters, a loop over the lines."""
    if lines.shape[1] == 0:
        return np.zeros(lines.shape[0])
    if lines.shape[0] <= FEW_CLUSTERS:  # a handful of rows: Python's own sum() is the definition, and cheaper
        return np.array([sum(row) for row in lines.tolist()], dtype=float)
    total = 0 + lines[:, 0]  # CPython starts from the int 0, then continues from the first float
    compensation = np.zeros(lines.shape[0])
    for j in range(1, lines.shape[1]):
        x = lines[:, j]
        t = total + x
        compensation += np.where(np.abs(total) >= np.abs(x), (total - t) + x, (x - t) + total)
        total = t
    use = (compensation != 0) & np.isfinite(compensation)
    return np.where(use, total + compensation, total)


class LedgerView:
    """One cluster's ledger with the names readers use: floats, and dicts by line (read-only copies)."""

    def __init__(self, ledger: Ledger, k: int) -> None:
        self._ledger, self._k = ledger, k

    def _lines(self, table: np.ndarray) -> dict[str, float]:
        return {line: float(table[self._k, j]) for j, line in enumerate(LINES)}

    allocation = property(lambda self: self._lines(self._ledger.allocation))
    spent = property(lambda self: self._lines(self._ledger.spent))
    shortfall = property(lambda self: self._lines(self._ledger.shortfall))
    budget = property(lambda self: float(self._ledger.budget[self._k]))
    committed = budget
    disbursed = property(lambda self: float(self._ledger.disbursed[self._k]))
    bso_cash = property(lambda self: float(self._ledger.bso_cash[self._k]))
    firm_own_contributions = property(lambda self: float(self._ledger.firm_own_contributions[self._k]))
    firm_fees = property(lambda self: float(self._ledger.firm_fees[self._k]))
    programme_cost = property(lambda self: float(self._ledger.programme_cost[self._k]))
    funder_paid = property(lambda self: float(self._ledger.funder_paid[self._k]))
    # the old names of the lines, for readers of results and notebooks
    spent_manager = property(lambda self: self.spent["manager"])
    spent_bso_training = property(lambda self: self.spent["bso_training"])
    spent_firm_training = property(lambda self: self.spent["firm_training"])
    paid_to_firms = property(lambda self: self.spent["cofinancing"])

    def remaining(self, line: str) -> float:
        return float(self._ledger.remaining(line)[self._k])

    def can_pay(self, line: str, amount: float) -> bool:
        return bool(self._ledger.can_pay(line, amount)[self._k])
