"""Labels as integer codes: the one encoding every computation in this package shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Coded:
    """``item[i]``, ``annotator[i]``, ``code[i]`` for label i; ``values`` sorted."""

    item: Ints
    annotator: Ints
    code: Ints
    items: npt.NDArray[Any]
    annotators: npt.NDArray[Any]
    values: npt.NDArray[Any]

    @property
    def counts(self) -> Floats:
        """Units x values: how many labels of each value each item got."""
        u, v = len(self.items), len(self.values)
        flat = np.bincount(self.item * v + self.code, minlength=u * v)
        return flat.reshape(u, v).astype(np.float64)


def encode(items: Sequence[Any], annotators: Sequence[Any], labels: Sequence[Any]) -> Coded:
    it_vals, it = np.unique(np.asarray(items), return_inverse=True)
    an_vals, an = np.unique(np.asarray(annotators), return_inverse=True)
    lab_vals, lab = np.unique(np.asarray(labels), return_inverse=True)
    return Coded(
        it.astype(np.int64).ravel(),
        an.astype(np.int64).ravel(),
        lab.astype(np.int64).ravel(),
        it_vals,
        an_vals,
        lab_vals,
    )
