"""Performance guard (issue 4): the monthly step has no Python-level loop over firms or ties.

The check counts calls instead of timing them, so it is deterministic and immune to machine load.
With ``sys.setprofile`` every Python function call and every call of a built-in (numpy's C
functions included) is counted while a model steps. A vectorised step makes the same few hundred
calls whatever the size of the cluster; a loop over firms or ties would add calls in proportion to
their number. Going from 100 to 1,000 firms multiplies firms and ties by ten, so the per-step
counts must stay nearly the same, in total and for every single function.

The full speed benchmark is ``benchmarks/run.py``, a script, not a timed test.
"""

from __future__ import annotations

import sys
from collections import Counter

import pytest

import clustersim

SMALL, LARGE = 100, 1_000
WARM_MONTHS = 18  # the programme is running, joint actions form, play and complete
COUNTED_MONTHS = 8
SEED = 3


def _key(frame, event: str, arg) -> str:
    if event == "call":
        code = frame.f_code
        return f"{code.co_filename.rsplit('/', 1)[-1]}:{code.co_qualname}"
    return f"builtin:{getattr(arg, '__qualname__', repr(arg))}"


def count_calls(fn) -> Counter:
    """Calls made while ``fn()`` runs, per function (Python functions and built-ins)."""
    calls: Counter = Counter()

    def profiler(frame, event, arg):
        if event in ("call", "c_call"):
            calls[_key(frame, event, arg)] += 1

    sys.setprofile(profiler)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls


def calls_per_step(n_firms: int, scenario: str = "funded_programme", **overrides) -> tuple[Counter, object]:
    model = clustersim.ClusterModel(scenario, seed=SEED, n_firms=n_firms, **overrides)
    model.run(WARM_MONTHS)

    def months():
        for _ in range(COUNTED_MONTHS):
            model.step()

    return count_calls(months), model


@pytest.fixture(scope="module", autouse=True)
def warm_up():
    # first calls into numpy/scipy import submodules lazily; keep those out of the counts
    for kind in ("projects", "random_groups", "neighbourhoods"):
        clustersim.ClusterModel("pandemic_shock", seed=0, n_firms=50, group_formation=kind).run(WARM_MONTHS + 2)


CASES = [
    ("funded_programme", {}),
    ("pandemic_shock", {}),  # online meetings, digital access, isolation
    ("leader_firms", {}),  # mentoring over leader-small ties
    ("funded_programme", {"group_formation": "random_groups"}),
    ("funded_programme", {"group_formation": "neighbourhoods"}),
]


@pytest.mark.parametrize(("scenario", "overrides"), CASES, ids=[f"{s}-{o}" if o else s for s, o in CASES])
def test_calls_per_step_do_not_grow_with_firms_or_ties(scenario, overrides):
    small, m_small = calls_per_step(SMALL, scenario, **overrides)
    large, m_large = calls_per_step(LARGE, scenario, **overrides)
    assert m_large.ties.n_ties >= 8 * m_small.ties.n_ties  # the comparison really spans 10x the ties

    total_small = sum(small.values()) / COUNTED_MONTHS
    total_large = sum(large.values()) / COUNTED_MONTHS
    assert total_large <= 1.5 * total_small, (
        f"{scenario}: {total_large:.0f} calls per month with {LARGE} firms vs {total_small:.0f} with {SMALL}"
    )
    # a loop over firms or ties shows up as one function whose count grows with the cluster
    grown = {
        name: (small[name] / COUNTED_MONTHS, n / COUNTED_MONTHS)
        for name, n in large.items()
        if n > 3 * small[name] + 10 * COUNTED_MONTHS
    }
    assert not grown, f"{scenario}: calls per month that grow with the cluster ({SMALL} -> {LARGE} firms): {grown}"


def test_step_never_reads_firm_agent_views():
    """Firm agents are views for people; the monthly step must work on the arrays behind them."""
    calls, model = calls_per_step(SMALL)
    firm_calls = {name: n for name, n in calls.items() if name.startswith("agents.py:Firm.")}
    assert not firm_calls, f"the monthly step used Firm agent views: {firm_calls}"
    # the instrument does see agent-view reads when they happen
    seen = count_calls(lambda: [firm.motivation for firm in model.firm_agents])
    assert sum(n for name, n in seen.items() if name.startswith("agents.py:Firm.")) >= SMALL


def test_counter_detects_a_loop_over_ties():
    """Sanity check of the method: a Python loop over ties makes the count grow with the ties."""
    _, small = calls_per_step(SMALL)
    _, large = calls_per_step(LARGE)

    def loop_over_ties(model):
        return lambda: [max(w, 0.0) for w in model.trust.tolist()]

    n_small = sum(count_calls(loop_over_ties(small)).values())
    n_large = sum(count_calls(loop_over_ties(large)).values())
    assert n_small >= small.ties.n_ties
    assert n_large >= 8 * n_small
