"""The policy calendar (what happens in which month) and the programme's budget ledger."""

from __future__ import annotations

from dataclasses import dataclass, field

from .scenario import Scenario

#: The programme's budget lines. Co-financing of joint actions is the grant (``grant_amount``), paid in
#: tranches into the cluster account; every other line is paid by the funder as its service is delivered.
LINES = ("manager", "bso_training", "firm_training", "cofinancing", "monitoring", "regional_exchange", "leader_incentive")
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
                disb = tranche_months(start, s.disbursement_delay_months, s.tranche_interval_months, s.grant_tranches, end)
        blocks: tuple[int, ...] = ()
        if has_programme and s.bso_training_staff > 0 and s.bso_training_intensity > 0:
            b0 = start + s.bso_training_start_month
            blocks = tuple(
                m for m in (b0 + b * s.bso_training_interval_months for b in range(s.bso_training_blocks)) if m < end
            )
        firm_training = None
        if has_programme and s.firm_training_share > 0 and start + s.firm_training_month < end:
            firm_training = start + s.firm_training_month
        pandemic = None
        if s.pandemic_months > 0:
            pandemic = (s.pandemic_start_month, s.pandemic_start_month + s.pandemic_months)
        hurricane = s.hurricane_month if s.hurricane_capital_loss > 0 else None
        exchanges: tuple[int, ...] = ()
        if has_programme and s.regional_exchange_interval_months > 0:
            exchanges = tuple(
                range(start + s.regional_exchange_interval_months, end, s.regional_exchange_interval_months)
            )
        return cls(
            start, end if has_programme else start, disb, promised, blocks, firm_training, pandemic, hurricane, exchanges
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


@dataclass
class Ledger:
    """Programme money in k$, by budget line (docs/ODD.md, "Budget").

    The funder commits one budget split into named lines. Co-financing is the grant, paid in tranches
    into the cluster account (``bso_cash``) and from there to firms; every other line is paid by the
    funder as its service is delivered. A payment never exceeds what is left on its line (nor, for
    co-financing, the cash in the account): what cannot be afforded does not happen, and ``shortfall``
    records what was wanted but not paid, by line.

    Invariants (tested): ``spent[line] <= allocation[line]``; ``programme_cost == sum(spent) <= budget``;
    ``disbursed == bso_cash + spent["cofinancing"]``.
    """

    allocation: dict[str, float]
    budget: float = 0.0
    spent: dict[str, float] = field(default_factory=lambda: dict.fromkeys(LINES, 0.0))
    shortfall: dict[str, float] = field(default_factory=lambda: dict.fromkeys(LINES, 0.0))
    disbursed: float = 0.0
    bso_cash: float = 0.0
    firm_own_contributions: float = 0.0  # firms' private money (co-funding and unfunded actions)
    firm_fees: float = 0.0  # membership fees firms paid to the cluster association

    @classmethod
    def from_scenario(cls, s: Scenario) -> Ledger:
        alloc = line_allocations(s)
        return cls(allocation=alloc, budget=float(s.programme_budget) or sum(alloc.values()))

    def remaining(self, line: str) -> float:
        return self.allocation[line] - self.spent[line]

    def disburse(self, amount: float) -> None:
        """A grant tranche reaches the cluster account."""
        self.disbursed += amount
        self.bso_cash += amount

    def pay(self, line: str, amount: float) -> float:
        """Pay up to ``amount`` from ``line``; returns what was paid (the rest is a shortfall)."""
        amount = max(amount, 0.0)
        available = self.remaining(line)
        if line == "cofinancing":
            available = min(available, self.bso_cash)
        paid = min(amount, max(available, 0.0))
        self.spent[line] += paid
        self.shortfall[line] += amount - paid
        if line == "cofinancing":
            self.bso_cash -= paid
            if self.bso_cash < 1e-9:  # a rounding residue is spent, not cash that keeps co-financing "on"
                self.spent[line] += self.bso_cash
                self.bso_cash = 0.0
        return paid

    def can_pay(self, line: str, amount: float) -> bool:
        return self.remaining(line) >= amount - 1e-9  # rounding margin on k$ sums

    @property
    def committed(self) -> float:
        return self.budget

    @property
    def programme_cost(self) -> float:
        """Money the programme actually spent (not cash still in the account)."""
        return sum(self.spent.values())

    @property
    def funder_paid(self) -> float:
        """Money that left the funder: tranches paid into the account plus every directly paid line."""
        return self.disbursed + sum(v for line, v in self.spent.items() if line != "cofinancing")

    # the old names of the lines, for readers of results and notebooks
    spent_manager = property(lambda self: self.spent["manager"])
    spent_bso_training = property(lambda self: self.spent["bso_training"])
    spent_firm_training = property(lambda self: self.spent["firm_training"])
    paid_to_firms = property(lambda self: self.spent["cofinancing"])
