"""Time in the simulator: instants are int64 microseconds since the epoch, UTC.

The business lives in Pacific time and the contract writes UTC, so every conversion goes through
these few helpers; integer microseconds keep sorting, bucketing into files and change sequence
numbers exact and fast.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..business_day import PACIFIC

US = 1_000_000
HOUR = 3600 * US


def local_to_utc(day: date, seconds: np.ndarray) -> np.ndarray:
    """Pacific wall-clock seconds after midnight of `day` -> UTC µs (repeated hour: the first pass)."""
    wall = np.datetime64(day, "us") + (np.asarray(seconds, dtype=np.float64) * US).astype("timedelta64[us]")
    idx = pd.DatetimeIndex(wall).tz_localize(PACIFIC, ambiguous=np.ones(len(wall), bool), nonexistent="shift_forward")
    return idx.tz_convert("UTC").as_unit("us").asi8.copy()


def midnight(day: date) -> int:
    return int(local_to_utc(day, np.zeros(1))[0])


def pacific_wall(us: np.ndarray) -> np.ndarray:
    """UTC µs -> naive Pacific wall time (datetime64[us])."""
    idx = pd.DatetimeIndex(np.asarray(us).astype("datetime64[us]")).tz_localize("UTC").tz_convert(PACIFIC)
    return idx.tz_localize(None).as_unit("us").to_numpy()


def pacific_date(us: np.ndarray) -> np.ndarray:
    return pacific_wall(us).astype("datetime64[D]")


def to_datetime(us: np.ndarray) -> np.ndarray:
    return np.asarray(us, dtype=np.int64).astype("datetime64[us]")


def dst_change(day: date) -> str | None:
    """`fall_back` on the autumn change day (25 hours), `spring_forward` on the spring one (23), else None."""
    hours = (midnight(day + timedelta(days=1)) - midnight(day)) // HOUR
    return {25: "fall_back", 23: "spring_forward"}.get(int(hours))


def is_dst_change(day: date) -> bool:
    return dst_change(day) is not None


def change_seq(commit_us: np.ndarray, counter: np.ndarray) -> pa.Array:
    """35-digit DMS change sequence: commit time (20 digits) + a 15-digit counter, increasing in commit order."""
    stamp = pa.array(np.datetime_as_string(to_datetime(commit_us), unit="us"))
    digits = pc.replace_substring_regex(stamp, r"[-:T.]", "")
    count = pc.utf8_lpad(pc.cast(pa.array(counter, pa.int64()), pa.string()), 15, "0")
    return pc.binary_join_element_wise(digits, count, "")
