"""The registry's entry type (kept apart so that clustersim.coefficients can build entries too)."""

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
