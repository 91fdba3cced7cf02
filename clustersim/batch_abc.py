"""A pyabc sampler that evaluates candidate particles in batches, so that their model runs step together.

pyabc's ``simulate_one`` draws a candidate's parameters, calls the model, computes the distance and decides
acceptance, one candidate at a time (``SingleCoreSampler``). One 60-firm run costs about as much as ten run
together in one ensemble batch (README, "Performance"), so here each candidate runs as a greenlet: it goes as
far as its model call, hands the request over and is suspended; once every candidate of the batch has asked,
their requests are evaluated in one call (``evaluate``), and each candidate resumes, in the order it was
created, to finish its distance and acceptance.

The sample is the single-core sampler's, draw for draw: the first ``n`` accepted in creation order, with
every candidate up to the ``n``-th acceptance counted as evaluated (``nr_evaluations_``, as
``SingleCoreSampler`` counts). Candidates of the last batch created after the ``n``-th acceptance are
dropped, and numpy's global generator is set back to where the first of them started, as if they had never
been drawn. This is exact while nothing after a candidate's model call draws from that generator (true of
clustersim's calibration: a uniform acceptor, a deterministic distance, and model runs on their own counter
streams); a draw after it would come in another order than one at a time.

Three differences from one at a time remain: an error in a dropped candidate (in its model, distance or
acceptance) aborts the generation, as the whole batch is run before anything is decided; the dropped
candidates' runs cost time that ``nr_evaluations_`` does not count; and ``max_eval`` is honoured as
``SingleCoreSampler(check_max_eval=True)`` honours it (the plain ``SingleCoreSampler`` ignores it).
Greenlets start with an empty context, so context variables a caller set (``np.errstate``) do not reach
the candidates; the model runs in the sampler's own greenlet.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence

import numpy as np
import pyabc
from greenlet import greenlet


class _Candidate(greenlet):
    """One candidate particle's ``simulate_one``, suspended at its model call."""


def deferred(request, evaluate_now: Callable):
    """In a batch: hand ``request`` to the sampler and return its result once the batch is evaluated.
    Outside one (pyabc calling the model directly): ``evaluate_now(request)``."""
    current = greenlet.getcurrent()
    if isinstance(current, _Candidate):
        parent = current.parent
        del current  # a suspended frame holding its own greenlet is a cycle the collector cannot free
        return parent.switch(request)
    return evaluate_now(request)


def run_batch(simulate_one: Callable, size: int, evaluate: Callable[[Sequence], Sequence]) -> tuple[list, list]:
    """``size`` results of ``simulate_one`` in creation order, with every model request made at the same
    stage evaluated together by ``evaluate``; and the state of numpy's global generator as each candidate
    started. A candidate still suspended when something raises is unwound (``GreenletExit``)."""
    candidates = [_Candidate(simulate_one) for _ in range(size)]
    starts: list = []
    done: dict[int, object] = {}
    pending = []
    try:
        for i, g in enumerate(candidates):  # each runs to its model call (or to its end) in turn
            starts.append(np.random.get_state())
            out = g.switch()
            if g.dead:
                done[i] = out
            else:
                pending.append((i, out))
        while pending:
            results = evaluate([request for _, request in pending])
            waiting, pending = pending, []
            for (i, _), result in zip(waiting, results, strict=True):
                out = candidates[i].switch(result)
                if candidates[i].dead:
                    done[i] = out
                else:  # a second model call of the same candidate: the next round
                    pending.append((i, out))
    finally:
        for g in candidates:
            if g:  # started and suspended: unwind it, so that nothing it holds outlives the batch
                # an error while unwinding one must not hide the first error, or leave the rest suspended
                with contextlib.suppress(BaseException):
                    g.throw()
    return [done[i] for i in range(size)], starts


class BatchSampler(pyabc.sampler.Sampler):
    """Evaluates candidates in batches (see the module docstring).

    The batch is sized to what is still needed at the acceptance rate seen so far (the previous
    generation's to start with, 1 for the first), between ``min_batch`` and ``max_batch``: a batch much
    larger than needed evaluates candidates only to drop them.
    """

    def __init__(self, evaluate: Callable[[Sequence], Sequence], min_batch: int = 8, max_batch: int = 256):
        super().__init__()
        if not 1 <= min_batch <= max_batch:
            raise ValueError(f"need 1 <= min_batch <= max_batch, got {min_batch} and {max_batch}")
        self.evaluate = evaluate
        self.min_batch, self.max_batch = min_batch, max_batch
        self._rate = 1.0  # the last generation's acceptance rate

    def batch_size(self, still_needed: int, rate: float) -> int:
        """Candidates to create for ``still_needed`` acceptances at acceptance ``rate``."""
        wanted = math.ceil(still_needed / rate) if rate > 0 else self.max_batch
        return min(self.max_batch, max(self.min_batch, wanted))

    def sample_until_n_accepted(self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None):  # noqa: ARG002
        sample = self._create_empty_sample()
        evaluated = accepted = 0
        while accepted < n and evaluated < max_eval:
            rate = accepted / evaluated if evaluated else self._rate
            size = self.batch_size(n - accepted, rate)
            if max_eval < np.inf:  # pyabc's max_eval is often fractional (population / least acceptance rate)
                size = min(size, math.ceil(max_eval - evaluated))
            particles, starts = run_batch(simulate_one, size, self.evaluate)
            for i, particle in enumerate(particles):
                sample.append(particle)
                evaluated += 1
                accepted += bool(particle.accepted)
                if (accepted >= n or evaluated >= max_eval) and i + 1 < size:
                    np.random.set_state(starts[i + 1])  # the dropped candidates were never drawn
                    break
        if evaluated:
            self._rate = accepted / evaluated
        self.nr_evaluations_ = evaluated
        if accepted < n:
            sample.ok = False
        return sample
