"""Small shared pieces of the day's generation: defect counts, change rows, WMS postings, lots.

Quantities are carried as integer hundredths (`cases_c`, `lbs_c`) while generating, so the book,
the manifest and the files agree to the cent; they become decimals only in the change frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .clock import to_datetime

POSTING_COLUMNS = [
    "txn_type",
    "sku",
    "lot_code",
    "supplier_lot",
    "from_location_id",
    "to_location_id",
    "cases_c",
    "lbs_c",
    "reference_type",
    "reference_id",
    "reason_code",
    "occurred_us",
    "created_by",
    "commit_us",
]


def defect_count(rate: float, population: int) -> int:
    """How many of `population` get a defect: the rate's share, at least one when the rate is on."""
    if rate <= 0 or population <= 0:
        return 0
    return int(min(population, max(1, round(rate * population))))


def choose(rng: np.random.Generator, candidates: np.ndarray, rate: float) -> np.ndarray:
    k = defect_count(rate, len(candidates))
    return np.sort(rng.choice(candidates, size=k, replace=False)) if k else candidates[:0]


def column(value, n: int) -> np.ndarray:
    """A column's values as an array of length n (Series lose their index, scalars are repeated)."""
    if isinstance(value, (pd.Series, pd.Index)):
        return value.to_numpy()
    if value is None or np.isscalar(value):
        return np.full(n, value, dtype=object)
    return np.asarray(value)


def postings(n: int, **cols) -> pd.DataFrame:
    """WMS postings (inserts) with defaults for the columns a movement type leaves empty."""
    out = pd.DataFrame({c: column(cols.get(c), n) for c in POSTING_COLUMNS})
    for c in ("cases_c", "lbs_c", "occurred_us", "commit_us"):
        out[c] = np.asarray(out[c], dtype=np.int64)
    return out


def lbs_for(cases_c: np.ndarray, wt_c: np.ndarray) -> np.ndarray:
    """Pounds (hundredths) of `cases_c` hundredths of a case weighing `wt_c` hundredths of a pound."""
    return (np.asarray(cases_c, np.int64) * np.asarray(wt_c, np.int64) + 50) // 100


def decimal(c: np.ndarray) -> np.ndarray:
    return np.asarray(c, dtype=np.float64) / 100.0


def change_frame(op, commit_us: np.ndarray, columns: dict) -> pd.DataFrame:
    """Rows of one source table's change stream: `op`, `commit_us`, then the table's own columns."""
    n = len(commit_us)
    data = {"op": column(op, n), "commit_us": np.asarray(commit_us, np.int64)}
    data.update({k: column(v, n) for k, v in columns.items()})
    return pd.DataFrame(data)


def stamps(us) -> np.ndarray:
    return to_datetime(us)


@dataclass
class Defects:
    """Injected defects and expected behaviours, by name, as lists of JSON-ready records."""

    records: dict[str, list] = field(default_factory=dict)

    def add(self, name: str, rows) -> None:
        self.records.setdefault(name, []).extend(rows)
