"""The food bank's business day: the calendar day in Pacific time (docs/design.md), the one zone every
layer dates its events, partitions and deadlines in."""

PACIFIC = "America/Los_Angeles"
