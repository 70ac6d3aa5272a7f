"""Each file format of the contract, once.

Reading is split in two steps that every format shares: `prepare(table, data)` checks the file as a
whole (encoding, header, truncation) and hands back a `ReadPlan` that DuckDB's CSV reader can run;
`value_sql(column, fmt, src)` turns one delivered text value into its typed value. The loader never
needs to know which format it is reading. Writing the source systems' files (for the simulator and the CDC capture) is
`source_files.py`.
"""

from .reading import FileRejected, ReadPlan, prepare, value_sql

__all__ = ["FileRejected", "ReadPlan", "prepare", "value_sql"]
