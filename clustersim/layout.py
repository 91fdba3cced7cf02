"""Where each cluster's elements sit in an ensemble's concatenated arrays (docs/plans/ensemble-engine.md, §1.1).

An ensemble holds K clusters in one set of arrays. The firms of cluster k are the contiguous slice
``firm_ptr[k]:firm_ptr[k + 1]`` in their standalone order, and the same holds for ties and for BSO
officer slots. A single cluster is the layout with K = 1, where a global index is the local one.

The layout answers two questions for any element: which cluster it belongs to, and its index within
that cluster. Counter-based draws (``clustersim.streams``) address elements by that local index, so a
cluster's draws do not depend on which clusters share its batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

#: The index spaces a draw can be addressed in; actions are numbered by their cluster's own book.
SPACES = ("firm", "tie", "officer")


def _pointers(sizes: Sequence[int]) -> np.ndarray:
    sizes = np.asarray(sizes, dtype=np.int64)
    if sizes.ndim != 1 or (sizes < 0).any():
        raise ValueError(f"sizes must be a list of counts >= 0, got {sizes.tolist()}")
    ptr = np.zeros(sizes.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=ptr[1:])
    return ptr


@dataclass(frozen=True)
class Layout:
    """The offsets of K clusters' firms, ties and officer slots in concatenated arrays."""

    firm_ptr: np.ndarray  # K + 1
    tie_ptr: np.ndarray  # K + 1
    officer_ptr: np.ndarray  # K + 1
    _clusters: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_sizes(cls, firms: Sequence[int], ties: Sequence[int], officers: Sequence[int]) -> Layout:
        if not len(firms) == len(ties) == len(officers):
            raise ValueError("firms, ties and officers need one count per cluster each")
        return cls(_pointers(firms), _pointers(ties), _pointers(officers))

    @classmethod
    def single(cls, firms: int, ties: int, officers: int) -> Layout:
        return cls.from_sizes([firms], [ties], [officers])

    def __post_init__(self) -> None:
        # read thousands of times a run: plain attributes, not properties (the pointers never change)
        object.__setattr__(self, "K", int(self.firm_ptr.size - 1))
        object.__setattr__(self, "_sizes", {})
        object.__setattr__(self, "_locals", {})

    @property
    def n_firms(self) -> np.ndarray:
        """Firms per cluster (K), read-only."""
        return self.sizes("firm")

    def pointers(self, space: str) -> np.ndarray:
        return {"firm": self.firm_ptr, "tie": self.tie_ptr, "officer": self.officer_ptr}[space]

    def sizes(self, space: str) -> np.ndarray:
        """Elements of ``space`` per cluster (int64, K), computed once and read-only."""
        sizes = self._sizes.get(space)
        if sizes is None:
            sizes = self._sizes[space] = np.diff(self.pointers(space))
            sizes.flags.writeable = False
        return sizes

    def clusters(self, space: str) -> np.ndarray:
        """The cluster of every element of ``space``, computed once."""
        cl = self._clusters.get(space)
        if cl is None:
            cl = self._clusters[space] = np.repeat(np.arange(self.K, dtype=np.int64), np.diff(self.pointers(space)))
        return cl

    def local(self, space: str) -> np.ndarray:
        """Every element's index within its own cluster (int64), computed once and read-only: a draw
        addressed by it then costs one gather, where subtracting the cluster's offset costs three steps."""
        local = self._locals.get(space)
        if local is None:
            ptr = self.pointers(space)
            local = self._locals[space] = np.arange(ptr[-1], dtype=np.int64) - np.repeat(ptr[:-1], np.diff(ptr))
            local.flags.writeable = False
        return local

    def localise(self, space: str, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(cluster, local index)`` of global indices ``index`` in ``space``."""
        index = np.asarray(index, dtype=np.int64)
        return self.clusters(space)[index], self.local(space)[index]
