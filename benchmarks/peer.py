"""The peer: Mesa's own BoltzmannWealth example, the model Mesa benchmarks itself with.

Mesa's "large" benchmark configuration runs 10,000 agents on a 100 x 100 grid (one agent per cell
on average, the same density as the example's default 100 agents on 10 x 10), so that is the
grid used here. One agent-step is one agent's move-and-give in one model step.
"""

from __future__ import annotations

import time
import warnings


def boltzmann_grid(n_agents: int) -> tuple[int, int]:
    """A square grid with about one agent per cell, the density of Mesa's default example."""
    side = max(1, round(n_agents**0.5))
    return side, side


def time_boltzmann(n_agents: int, steps: int, seed: int) -> tuple[float, float]:
    """Build and step Mesa's BoltzmannWealth; returns (init seconds, run seconds)."""
    from mesa.examples.basic.boltzmann_wealth_model.model import BoltzmannScenario, BoltzmannWealth

    width, height = boltzmann_grid(n_agents)
    with warnings.catch_warnings():  # the example uses Mesa's experimental data recorder
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        model = BoltzmannWealth(BoltzmannScenario(n=n_agents, width=width, height=height, rng=seed))
        t1 = time.perf_counter()
        for _ in range(steps):
            model.step()
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1
