"""One palette for every figure, notebook and the dashboard: the same colour means the same thing."""

from __future__ import annotations

from .state import STATE_NAMES

#: firm membership states (network pictures, state bars)
STATE_COLORS: dict[str, str] = {
    "outside": "#b0b0b0",
    "member": "#4c72b0",
    "active": "#2ca02c",
    "dropped": "#d62728",
}
assert set(STATE_COLORS) == set(STATE_NAMES)

#: presets and common counterfactuals
SCENARIO_COLORS: dict[str, str] = {
    "baseline": "#7f7f7f",
    "funded_programme": "#1f77b4",
    "delayed_funding": "#d62728",
    "unfunded_plan": "#8c564b",
    "prior_cooperative": "#2ca02c",
    "leader_firms": "#9467bd",
    "pandemic_shock": "#ff7f0e",
    "bso_turnover": "#e377c2",
    "rising": "#17becf",
    "innovative": "#bcbd22",
    "sluggish": "#393b79",
}
#: custom arms and mixes: a palette no preset uses, so a colour never suggests the wrong scenario
_FALLBACK = ("#006d77", "#e29578", "#6a4c93", "#8ac926", "#b5838d", "#1982c4", "#ffca3a", "#5e6472", "#ff595e")
assert not set(_FALLBACK) & set(SCENARIO_COLORS.values())

#: key series (time-series panels)
SERIES_LABELS: dict[str, str] = {
    "share_cooperating": "Firms cooperating (share)",
    "mean_trust": "Mean trust (0-1)",
    "mean_motivation": "Mean motivation (0-1)",
    "members": "Members (firms)",
    "dropouts": "Dropped out (firms)",
    "joint_actions_completed": "Joint actions completed (count)",
    "revenue_index": "Revenue index (month 0 = 1)",
    "jobs_index": "Jobs index (month 0 = 1)",
    "exports_index": "Exports index (month 0 = 1)",
}


def scenario_color(name: str, i: int = 0) -> str:
    """Colour of a scenario: fixed for presets, a stable fallback otherwise."""
    return SCENARIO_COLORS.get(name, _FALLBACK[i % len(_FALLBACK)])
