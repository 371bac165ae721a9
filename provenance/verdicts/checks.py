"""Argument checks shared by the verdict modules; each failure is a sentence for the user."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike


def finite(values: ArrayLike) -> np.ndarray:
    """The finite values of ``values`` as a flat float64 array."""
    arr = np.asarray(values, dtype=np.float64).ravel()
    return arr[np.isfinite(arr)]


def check_fraction(value: float, what: str) -> None:
    if not 0 < value < 1:
        raise ValueError(f"{what} must be between 0 and 1 (a fraction, e.g. 0.05); got {value}.")


def require_columns(table: pd.DataFrame, columns: Sequence[str], which: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"The {which} table has no column for score(s) {', '.join(missing)}; score the documents "
                         "with them first.")
