import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
import uuid

import jsonschema
import pytest
from sqlalchemy import create_engine, text

from commentmine.store import (StoreError, connect, external_key, forget, list_conflicts, note_schema, pull,
                               write_notes)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'notes.db'}"
    base = request.getfixturevalue("postgres_url")
    name = "t" + uuid.uuid4().hex[:10]
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return base.rsplit("/", 1)[0] + "/" + name


def note(customer, type_, value, response="r1", evidence="e", source="s"):
    return {"external_key": external_key(source, response, type_, value), "customer_id": customer, "type": type_,
            "value": value, "evidence": evidence, "confidence": 0.8, "response_id": response,
            "comment_date": None, "extracted_at": "2026-11-30T00:00:00+00:00", "model_version": "test"}


def test_idempotent_upsert_and_schema(db_url):
    engine = connect(db_url)
    batch = [note("C1", "channel", "email"), note("C2", "language", "Bengali")]
    r1 = write_notes(engine, batch)
    r2 = write_notes(engine, batch)
    assert (r1.inserted, r2.inserted, r2.unchanged) == (2, 0, 2)
    rows = pull(engine, 0, 10)
    assert [r["seq"] for r in rows] == [1, 2]
    for r in rows:
        jsonschema.validate(r, note_schema())
    r3 = write_notes(engine, [note("C1", "channel", "email", evidence="changed")])
    assert r3.updated == 1 and pull(engine, 2, 10)[0]["seq"] == 3


def test_opt_out_only_tightens(db_url):
    engine = connect(db_url)
    write_notes(engine, [note("C1", "do_not_contact", "any", response="r1")])
    r = write_notes(engine, [note("C1", "channel", "phone", response="r2"), note("C2", "channel", "phone", response="r3")])
    assert (r.inserted, r.conflicts) == (1, 1)
    conflict = list_conflicts(engine)[0]
    assert conflict["customer_id"] == "C1" and "do_not_contact any" in conflict["reason"]
    assert {(x["customer_id"], x["type"]) for x in pull(engine)} == {("C1", "do_not_contact"), ("C2", "channel")}


def test_forget_emits_tombstones_and_stays_forgotten(db_url):
    engine = connect(db_url)
    batch = [note("C1", "channel", "email"), note("C1", "language", "Hindi"), note("C2", "channel", "sms")]
    write_notes(engine, batch)
    assert forget(engine, "C1") == 2
    tomb = pull(engine, 3, 10)
    assert [(t["op"], t["value"], t["evidence"]) for t in tomb] == [("delete", "", "")] * 2
    for t in tomb:
        jsonschema.validate(t, note_schema())
    assert write_notes(engine, batch).inserted == 0  # re-running the old input does not resurrect them
    assert forget(engine, "nobody") == 0


def _writer(url, prefix, n, batch):
    engine = connect(url)
    for start in range(0, n, batch):
        write_notes(engine, [note(f"{prefix}{i}", "channel", "email", response=f"{prefix}{i}")
                             for i in range(start, min(n, start + batch))])


def test_concurrent_writers_with_a_puller(db_url):
    connect(db_url).dispose()
    ctx = mp.get_context("spawn")
    writers = [ctx.Process(target=_writer, args=(db_url, p, 300, 7)) for p in ("A", "B")]
    for w in writers:
        w.start()
    engine = connect(db_url)
    seen, cursor = [], 0
    while any(w.is_alive() for w in writers) or True:
        rows = pull(engine, cursor, 50)
        seen += [r["external_key"] for r in rows]
        cursor = rows[-1]["seq"] if rows else cursor
        if not rows and not any(w.is_alive() for w in writers):
            break
        time.sleep(0.005)
    for w in writers:
        w.join()
        assert w.exitcode == 0
    assert len(seen) == len(set(seen)) == 600  # nothing lost, nothing twice


def test_killed_writer_then_rerun_completes(db_url, tmp_path):
    src = tmp_path / "big.csv"
    with open(src, "w") as f:
        f.write("rid,cust,comment\n")
        for i in range(3000):
            f.write(f"{i},C{i},please email me instead of calling\n")
    cmd = [sys.executable, "-m", "commentmine", "notes", str(src), "--customer-column", "cust", "--id-column", "rid",
           "--db", db_url, "-q", "--chunksize", "50"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE)
    engine = connect(db_url)
    deadline = time.time() + 60
    while time.time() < deadline and not pull(engine, 0, 1):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = len(pull(engine, 0, 100000))
    assert partial < 3000  # killed mid-way, but what is there is whole transactions
    subprocess.run(cmd, check=True)
    rows = pull(engine, 0, 100000)
    assert len(rows) == len({r["external_key"] for r in rows}) == 3000
    assert [r["seq"] for r in rows] == list(range(1, 3001))


@pytest.mark.parametrize("url, fragment", [
    ("notes.db", "not a database URL"),
    ("mysql+nosuchdriver://x/y", "unsupported database URL"),
    ("postgresql://nobody@127.0.0.1:1/none", "cannot open notes database"),
])
def test_bad_urls(url, fragment):
    with pytest.raises(StoreError, match=fragment):
        connect(url)
