"""The policy calendar (what happens in which month) and the programme's money ledger."""

from __future__ import annotations

from dataclasses import dataclass

from .scenario import Scenario


@dataclass(frozen=True)
class PolicyCalendar:
    """Months of every scheduled event, derived once from a scenario.

    Month ``m`` is the step that takes the cluster from month ``m`` to ``m+1``.
    """

    programme_start: int
    programme_end: int  # first month after the programme (== start when there is none)
    disbursements: tuple[int, ...]
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
        if has_programme and s.grant_amount > 0:
            first = start + s.disbursement_delay_months
            disb = tuple(m for m in (first + k * s.tranche_interval_months for k in range(s.grant_tranches)) if m < end)
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
        return cls(start, end if has_programme else start, disb, blocks, firm_training, pandemic, hurricane, exchanges)

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
            out.append((self.disbursements[0], "first disbursement"))
        out += [(m, "training block") for m in self.training_blocks]
        if self.pandemic:
            out += [(self.pandemic[0], "shock start"), (self.pandemic[1], "shock end")]
        if self.hurricane is not None:
            out.append((self.hurricane, "hurricane"))
        return sorted(out)


@dataclass
class Ledger:
    """Programme money in k$. The funder pays grant tranches into the BSO's cluster
    account, and pays BSO training and the cluster manager's salary directly (so the
    manager is never left unpaid when joint actions use up the grant); the account
    pays firm training and the grant share of funded joint actions to firms.

    Invariant (tested): ``disbursed == bso_cash + spent_firm_training + paid_to_firms``
    and ``funder_paid == disbursed + spent_bso_training + spent_manager``.
    """

    committed: float = 0.0
    disbursed: float = 0.0
    bso_cash: float = 0.0
    spent_bso_training: float = 0.0
    spent_manager: float = 0.0
    spent_firm_training: float = 0.0
    paid_to_firms: float = 0.0
    firm_own_contributions: float = 0.0  # firms' private money (co-funding and unfunded actions)

    def disburse(self, amount: float) -> None:
        self.disbursed += amount
        self.bso_cash += amount

    def pay_from_account(self, category: str, amount: float) -> float:
        """Pay up to ``amount`` from the BSO account; returns what was paid."""
        paid = min(max(amount, 0.0), self.bso_cash)
        self.bso_cash -= paid
        setattr(self, category, getattr(self, category) + paid)
        return paid

    def pay_direct(self, category: str, amount: float) -> float:
        """The funder pays ``amount`` directly (BSO training, the manager's salary)."""
        setattr(self, category, getattr(self, category) + amount)
        return amount

    @property
    def funder_paid(self) -> float:
        return self.disbursed + self.spent_bso_training + self.spent_manager

    @property
    def programme_cost(self) -> float:
        """Money actually spent by the programme (not cash still in the account)."""
        return self.spent_bso_training + self.spent_manager + self.spent_firm_training + self.paid_to_firms
