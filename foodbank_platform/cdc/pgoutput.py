"""Decoding PostgreSQL's `pgoutput` logical replication messages (protocol version 1).

Why pgoutput: it ships with PostgreSQL (RDS included, where DMS uses it too), a publication decides which
tables it sends, and every value comes as the type's own text output, one small step from the DMS text forms
(test_decoding loses types; wal2json is an extra server package). Nothing here touches a connection, so it is
tested with bytes. The formats: https://www.postgresql.org/docs/15/protocol-logicalrep-message-formats.html
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

PG_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Begin:
    final_lsn: int  # LSN of the commit record: the transaction's place in commit order
    commit_ts: datetime
    xid: int


@dataclass(frozen=True)
class Commit:
    commit_lsn: int
    end_lsn: int  # what to confirm to the slot once this transaction is safely written
    commit_ts: datetime


@dataclass(frozen=True)
class Relation:
    relid: int
    schema: str
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    op: str  # 'I', 'U', 'D'
    relid: int
    values: tuple[str | None, ...]  # text per column; None = NULL


class UnchangedToast(ValueError):
    """An update left a large (TOASTed) value out; with the default replica identity we cannot know it."""


@dataclass(frozen=True)
class Ignored:
    kind: str  # origin, type, truncate, message: nothing DMS writes as rows


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, fmt: str):
        size = struct.calcsize(fmt)
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return value

    def byte(self) -> str:
        self.pos += 1
        return chr(self.data[self.pos - 1])

    def string(self) -> str:
        end = self.data.index(b"\0", self.pos)
        value = self.data[self.pos : end].decode("utf-8")
        self.pos = end + 1
        return value

    def timestamp(self) -> datetime:
        return PG_EPOCH + timedelta(microseconds=self.take("!q"))

    def tuple_data(self) -> tuple[str | None, ...]:
        values: list[str | None] = []
        for _ in range(self.take("!h")):
            kind = self.byte()
            if kind == "n":
                values.append(None)
            elif kind == "u":
                raise UnchangedToast("an UPDATE omitted an unchanged TOASTed value")
            else:  # 't' text (pgoutput without binary=true never sends 'b')
                length = self.take("!i")
                values.append(self.data[self.pos : self.pos + length].decode("utf-8"))
                self.pos += length
        return tuple(values)


def decode(payload: bytes):
    """One pgoutput message -> Begin | Commit | Relation | Change | Ignored."""
    r = _Reader(payload)
    kind = r.byte()
    if kind == "B":
        return Begin(r.take("!Q"), r.timestamp(), r.take("!I"))
    if kind == "C":
        r.take("!B")  # flags, unused
        return Commit(r.take("!Q"), r.take("!Q"), r.timestamp())
    if kind == "R":
        relid, schema, name = r.take("!I"), r.string(), r.string()
        r.take("!B")  # replica identity setting
        columns = []
        for _ in range(r.take("!h")):
            r.take("!B")  # flags (part of the key)
            columns.append(r.string())
            r.take("!I"), r.take("!i")  # type oid, typmod
        return Relation(relid, schema, name, tuple(columns))
    if kind == "I":
        relid = r.take("!I")
        r.byte()  # 'N'
        return Change("I", relid, r.tuple_data())
    if kind == "U":
        relid = r.take("!I")
        if r.byte() in "KO":  # old key / old row precedes the new one; DMS writes the after-image
            r.tuple_data()
            r.byte()
        return Change("U", relid, r.tuple_data())
    if kind == "D":
        relid = r.take("!I")
        r.byte()  # 'K' (key columns only, the rest NULL) or 'O' (replica identity full)
        return Change("D", relid, r.tuple_data())
    return Ignored({"O": "origin", "Y": "type", "T": "truncate", "M": "message"}.get(kind, kind))
