"""A corpus of malformed files: none stops the load, none vanishes, each is named with its reason.

Whole-file problems (empty, wrong header, wrong encoding, cut short) mark the file failed in the
ledger and are retried when a new version arrives; row problems (field count, unparseable values,
empty keys) quarantine the row with its file, row number and raw text while the rest loads.
"""

from __future__ import annotations

import pytest
from malformed_corpus import CORPUS, TXN, TXN_HEADER, txn_row

from foodbank_platform import warehouse
from foodbank_platform.ingest.ledger import identity
from foodbank_platform.ingest.loader import load_new_files
from foodbank_platform.landing.store import LocalStore


def load_corpus(root):
    """(connection, load report, landing store) of the corpus loaded into a fresh warehouse under root."""
    store = LocalStore(root / "landing")
    for key, data, _ in CORPUS:
        store.write_bytes(key, data)
    con = warehouse.connect(root / "w.duckdb")
    return con, load_new_files(store, con), store


@pytest.fixture(scope="module")
def corpus_load(tmp_path_factory):
    """Read-only for the tests: a test that loads more uses its own copy (`fresh_corpus_load`)."""
    con, report, store = load_corpus(tmp_path_factory.mktemp("corpus"))
    yield con, report, store
    con.close()


@pytest.fixture
def fresh_corpus_load(tmp_path):
    con, report, store = load_corpus(tmp_path)
    yield con, report, store
    con.close()


def test_corpus_is_big_enough():
    assert len(CORPUS) >= 20


@pytest.mark.parametrize("key,data,expected", CORPUS, ids=[c[0].rsplit("/", 1)[1] for c in CORPUS])
def test_each_malformed_file(corpus_load, key, data, expected):
    con, report, _ = corpus_load
    status, error, read, loaded, quarantined = con.execute(
        "SELECT status, error, rows_read, rows_loaded, rows_quarantined FROM audit.file_ledger WHERE landing_key = ?",
        [key],
    ).fetchone()
    if isinstance(expected, str):
        words = expected.split(":", 1)[1]
        assert status == "failed" and words in error.lower()
        named = [f.error for f in report.failed_files() if f.landing_key == key]
        assert named and key in named[0]  # the message names the file
        assert con.execute("SELECT count(*) FROM audit.quarantine WHERE landing_key = ?", [key]).fetchone()[0] == 0
    else:
        assert status == "loaded" and error is None
        q = con.execute(
            "SELECT row_number, reason, raw_text FROM audit.quarantine WHERE landing_key = ? ORDER BY row_number", [key]
        ).fetchall()
        assert [r[0] for r in q] == expected
        assert all(r[1] and r[2] for r in q)
        assert quarantined == len(expected) and read == loaded + quarantined
        assert (
            loaded == len(data.decode("cp1252").replace("\r\n", "\n").rstrip("\n").split("\n")) - 1 - len(expected)
            or b'"' in data
        )  # files without embedded newlines: every other line loaded


def test_good_rows_after_a_bad_row_keep_their_true_row_number(corpus_load):
    con, *_ = corpus_load
    rows = con.execute(
        "SELECT txn_id, _row_number FROM raw.wms__inventory_transactions "
        "WHERE _file LIKE '%100000006.csv' ORDER BY _row_number"
    ).fetchall()
    assert rows == [(2006, 1), (2007, 3)]


def test_reasons_name_the_problem(corpus_load):
    con, *_ = corpus_load
    reasons = " | ".join(r[0] for r in con.execute("SELECT reason FROM audit.quarantine").fetchall())
    for words in (
        'converting column "cases". Could not convert string "12x"',
        'converting column "dms_commit_ts". Could not convert string "2026-13-45 99:00:00.0"',
        "Op 'X' is not I, U or D",
        "key column txn_id is empty",
        "is_void 'M' is not a valid yn",
        "MISSING COLUMNS",
        "TOO MANY COLUMNS",
        "INVALID ENCODING",
        "line_number 'one' is not a valid bigint",
        "is_active 'yes' is not a valid boolean",
    ):
        assert words in reasons


def test_a_failed_file_is_retried_when_a_new_version_arrives(fresh_corpus_load):
    con, _, store = fresh_corpus_load
    key = f"{TXN}/2026/11/02/20261102-100000004.csv"
    store.write_bytes(key, (TXN_HEADER + txn_row("2099")).encode())
    again = load_new_files(store, con)
    loaded = [f for t in again.tables for f in t.files if f.status == "loaded"]
    # version 2 is kept beside the first bytes (which the source overwrote), under _versions/
    assert [(identity(f.landing_key), f.version, f.rows_loaded) for f in loaded] == [(key, 2, 1)]
    assert store.exists(loaded[0].landing_key) and loaded[0].landing_key != key
    assert con.execute("SELECT count(*) FROM raw.wms__inventory_transactions WHERE txn_id = 2099").fetchone()[0] == 1
