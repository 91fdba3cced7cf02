"""Timing of a counter-based uniform draw against numpy's Generator, for docs/plans/ensemble-engine.md.

A draw is the SplitMix64 finaliser (Steele, Lea & Flood 2014) of a key hashed from (cluster seed, month, draw
site), advanced by the element's local index: addressed, not consumed, so a cluster's draws do not depend on
its batch. A scratch measurement, not part of the package. Run: .venv/bin/python docs/plans/counter_rng_timing.py
"""

import time

import numpy as np

MULT_1 = np.uint64(0xBF58476D1CE4E5B9)
MULT_2 = np.uint64(0x94D049BB133111EB)
GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
SPLITMIX_FIRST_OUTPUT = 0xE220A8397B1DCDAF  # SplitMix64's first output from state 0 (the reference value)
TO_UNIT = 1.0 / 2.0**53  # 53 high bits to a double in [0, 1)


def finalise(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> np.uint64(30))) * MULT_1
    z = (z ^ (z >> np.uint64(27))) * MULT_2
    return z ^ (z >> np.uint64(31))


def uniform(seed: np.ndarray, month: int, site: int, index: np.ndarray) -> np.ndarray:
    key = finalise(seed ^ finalise(np.uint64(month) * GOLDEN_GAMMA + np.uint64(site)))
    bits = finalise(key + (index.astype(np.uint64) + np.uint64(1)) * GOLDEN_GAMMA)
    return (bits >> np.uint64(11)).astype(np.float64) * TO_UNIT


def main() -> None:
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps by design
        first = int(finalise(np.array([GOLDEN_GAMMA], dtype=np.uint64))[0])
        print(f"first output {first:#x}, reference {SPLITMIX_FIRST_OUTPUT:#x}")
        rng = np.random.default_rng(1)
        for n in (60, 600, 6_000, 60_000, 600_000):
            seeds, index = np.full(n, 12345, dtype=np.uint64), np.arange(n)
            reps = max(20, 200_000 // n)
            start = time.perf_counter()
            for _ in range(reps):
                uniform(seeds, 7, 3, index)
            counter = (time.perf_counter() - start) / reps
            start = time.perf_counter()
            for _ in range(reps):
                rng.random(n)
            generator = (time.perf_counter() - start) / reps
            mean = uniform(seeds, 7, 3, index).mean()
            print(
                f"{n:>7} elements: counter {counter * 1e6:8.1f} us, Generator {generator * 1e6:7.1f} us, "
                f"ratio {counter / generator:4.1f}, mean draw {mean:.3f}"
            )


if __name__ == "__main__":
    main()
