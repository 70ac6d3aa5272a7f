"""Reading many files as one stream must change nothing but the speed.

The pure helpers are checked on the shapes that decide whether a file may be streamed (quoted
notes spanning lines, carriage returns, empty lines, quotes inside a field). Then the same landing —
simulator days with multi-line DMS notes, plus the malformed corpus — is loaded three ways into real
DuckDB: streamed, one file at a time, and streamed with the stream's row count deliberately off by
one so the loader must notice and fall back. Raw rows with their lineage, the quarantine and the
ledger must be identical in all three.
"""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from malformed_corpus import CORPUS

from foodbank_platform import warehouse
from foodbank_platform.formats import stream
from foodbank_platform.ingest import loader
from foodbank_platform.landing.store import LocalStore
from foodbank_platform.simulator import SimulationConfig, simulate
from foodbank_platform.sources import catalog

NOTE = b'I,1,"leaking cans\nsee QA note",x\n'


@pytest.mark.parametrize(
    "data,delimiter,quote,expected",
    [
        (b"a,b\n1,2\n3,4\n", ",", '"', True),
        (b"a,b\n1," + b'"two\nlines"' + b"\n3,4\n", ",", '"', True),
        (b'a,b\n1,"say ""hi""\nthere"\n', ",", '"', True),
        (b"a,b\r\n1,2\r\n", ",", '"', False),  # DuckDB ends rows at \r too
        (b"a,b\n1,2\n\n3,4\n", ",", '"', False),  # DuckDB skips empty lines silently
        (b'a,b\n1,"two\n\nparagraphs"\n', ",", '"', True),  # an empty line inside a quoted note is data
        (b'a,b\n5" pipe,1\n6" hose,2\n', ",", '"', False),  # inch marks: quotes not around whole fields
        (b'a,b\n"x"y,1\n', ",", '"', False),
        (b'a|b\n5" pipe|1\n', "|", "", True),  # TEFAP has no quoting: a quote is just a character
    ],
)
def test_streamable(data, delimiter, quote, expected):
    assert stream.streamable(data, delimiter, quote) is expected


def test_rows_end_at_newlines_outside_quotes():
    assert stream.rows(b"h\n" + NOTE + NOTE, '"') == 2
    assert stream.rows(b'h\n5" a|1\n6" b|2\n', "") == 2
    assert stream.rows(b"h\n", '"') == 0


def test_join_keeps_one_header_and_says_where_each_file_is():
    files = [b"h1,h2\n1,a\n2,b\n", b"h1,h2\n", b"h1,h2\n" + NOTE + b"3,c\n"]
    data, parts = stream.join(files, '"')
    assert data == b"h1,h2\n1,a\n2,b\n" + NOTE + b"3,c\n"
    assert [(p.first_line, p.rows) for p in parts] == [(2, 2), (4, 0), (4, 2)]


# --- the loader, on real DuckDB --------------------------------------------------------------------


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    root = tmp_path_factory.mktemp("stream")
    simulate(SimulationConfig.in_folder(root, start_date=date(2026, 11, 2), days=2, scale=0.02, seed=5))
    store = LocalStore(root / "landing")
    for key, data, _ in CORPUS:
        store.write_bytes(key, data)
    for t in catalog.sftp_tables():  # the simulator's SFTP drops, landed as the puller would
        for f in (root / "sftp").rglob(t.pattern):
            store.write_bytes(f"{t.landing_prefix}/{f.name}", f.read_bytes())
    return root / "landing"


def _load(landing, tmp_path, name, monkeypatch, streaming: bool, miscount: bool = False):
    copy = tmp_path / name
    shutil.copytree(landing, copy)
    calls = []
    real_read_stream, real_join = loader._read_stream, stream.join

    def read_stream(*args):
        calls.append(real_read_stream(*args))
        return calls[-1]

    def join_miscounted(files, quote):
        data, parts = real_join(files, quote)
        parts[-1] = stream.StreamPart(parts[-1].first_line, parts[-1].rows + 1)
        return data, parts

    monkeypatch.setattr(loader, "_read_stream", read_stream)
    if not streaming:
        monkeypatch.setattr(stream, "streamable", lambda *a: False)
    if miscount:
        monkeypatch.setattr(stream, "join", join_miscounted)
    con = warehouse.connect(tmp_path / f"{name}.duckdb")
    loader.load_new_files(LocalStore(copy), con)
    monkeypatch.undo()
    return con, calls


def _contents(con) -> dict:
    out = {}
    for t in catalog.TABLES:
        cols = [c for c in warehouse.existing_columns(con, f"raw.{t.raw_table}") if c not in ("_loaded_at", "_load_id")]
        out[t.raw_table] = con.execute(f"SELECT {', '.join(cols)} FROM raw.{t.raw_table} ORDER BY ALL").fetchall()
    out["quarantine"] = con.execute(
        "SELECT source_table, landing_key, file_version, row_number, raw_text, reason FROM audit.quarantine "
        "ORDER BY ALL"
    ).fetchall()
    out["ledger"] = con.execute(
        "SELECT file_identity, version, status, error, rows_read, rows_loaded, rows_quarantined FROM audit.file_ledger "
        "ORDER BY ALL"
    ).fetchall()
    return out


def test_streamed_load_equals_file_by_file_load(landing, tmp_path, monkeypatch):
    streamed, stream_calls = _load(landing, tmp_path, "streamed", monkeypatch, streaming=True)
    one_by_one, plain_calls = _load(landing, tmp_path, "one_by_one", monkeypatch, streaming=False)
    assert stream_calls and all(stream_calls), "the streamed load should have read its batches as streams"
    assert not plain_calls
    got, expected = _contents(streamed), _contents(one_by_one)
    # The landing has multi-line notes and rejected rows in several files: the comparison means something.
    notes = streamed.execute(
        "SELECT count(*) FROM raw.wms__inventory_transactions WHERE reason_code LIKE '%' || chr(10) || '%'"
    ).fetchone()[0]
    assert notes > 0 and len(expected["quarantine"]) >= 10
    for name in expected:
        assert got[name] == expected[name], f"{name} differs between the streamed and the file-by-file load"


def test_a_stream_that_does_not_add_up_falls_back_to_file_by_file(landing, tmp_path, monkeypatch):
    miscounted, calls = _load(landing, tmp_path, "miscounted", monkeypatch, streaming=True, miscount=True)
    one_by_one, _ = _load(landing, tmp_path, "one_by_one_again", monkeypatch, streaming=False)
    assert calls and not any(calls), "every miscounted stream should have been refused"
    assert _contents(miscounted) == _contents(one_by_one)


def test_a_backlog_read_in_small_chunks_loads_the_same(landing, tmp_path, monkeypatch):
    """The loader holds one chunk of a backlog's files in memory at a time (MAX_BATCH_BYTES), all in the
    table's one transaction: many small chunks load exactly what one does."""
    whole, _ = _load(landing, tmp_path, "whole", monkeypatch, streaming=True)
    chunks = []
    real_chunks = loader._chunks

    def counted(files):
        for chunk in real_chunks(files):
            chunks.append(len(chunk))
            yield chunk

    monkeypatch.setattr(loader, "MAX_BATCH_BYTES", 64 * 1024)
    monkeypatch.setattr(loader, "_chunks", counted)
    copy = tmp_path / "chunked"
    shutil.copytree(landing, copy)
    chunked = warehouse.connect(tmp_path / "chunked.duckdb")
    loader.load_new_files(LocalStore(copy), chunked)
    monkeypatch.undo()
    assert len(chunks) > 2 * len(catalog.TABLES), "the backlog should have been read in many chunks"
    assert _contents(chunked) == _contents(whole)
