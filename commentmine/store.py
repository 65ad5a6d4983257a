"""The notes store: CRM-ready preference records with a pull cursor (SQLite or PostgreSQL via SQLAlchemy).

Every change (insert, update, tombstone) takes the next ``seq`` from a counter
row that the writing transaction holds locked until it commits, so sequence
numbers become visible in order: a puller that has read up to ``seq = n`` can
never later find a committed change with a smaller ``seq``, however many writers
run at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources

from sqlalchemy import (BigInteger, Column, Float, Integer, MetaData, String, Table, Text, create_engine, event,
                        select, text, update)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from .errors import CommentmineError

metadata = MetaData()
notes = Table(
    "cm_notes", metadata,
    Column("external_key", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False, unique=True, index=True),
    Column("op", String(8), nullable=False),
    Column("customer_id", String(200), nullable=False, index=True),
    Column("type", String(32), nullable=False),
    Column("value", String(200), nullable=False),
    Column("evidence", Text, nullable=False),
    Column("confidence", Float),
    Column("response_id", String(200)),
    Column("comment_date", String(40)),
    Column("extracted_at", String(40), nullable=False),
    Column("model_version", String(80), nullable=False),
)
conflicts = Table(
    "cm_conflicts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("external_key", String(64), nullable=False, unique=True),
    Column("customer_id", String(200), nullable=False, index=True),
    Column("type", String(32), nullable=False),
    Column("value", String(200), nullable=False),
    Column("evidence", Text, nullable=False),
    Column("response_id", String(200)),
    Column("blocked_by", String(64), nullable=False),
    Column("reason", String(200), nullable=False),
    Column("created_at", String(40), nullable=False),
)
counter = Table("cm_counter", metadata, Column("name", String(16), primary_key=True),
                Column("value", BigInteger, nullable=False))
NOTE_FIELDS = ("external_key", "seq", "op", "customer_id", "type", "value", "evidence", "confidence", "response_id",
               "comment_date", "extracted_at", "model_version")


class StoreError(CommentmineError):
    """The notes database URL is wrong or the database cannot be reached."""


def note_schema() -> dict:
    """The JSON Schema of a note record (``data/note.schema.json``)."""
    return json.loads(resources.files("commentmine.data").joinpath("note.schema.json").read_text("utf-8"))


def external_key(source: str, response_id: str, type_: str, value: str) -> str:
    """Deterministic key of a note: sha256 of source, response id, type and value."""
    raw = "\x1f".join([source, str(response_id), type_, value.lower()])
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:40]


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def connect(url: str) -> Engine:
    """An engine for `url` with the schema created; SQLite writers take the write lock up front."""
    if "://" not in url:
        raise StoreError(f"{url!r} is not a database URL; use sqlite:///notes.db or postgresql://user@host/db")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    try:
        kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {"pool_pre_ping": True}
        engine = create_engine(url, **kwargs)
    except (ArgumentError, NoSuchModuleError, ImportError) as e:
        raise StoreError(f"{url!r}: unsupported database URL ({e.__class__.__name__}); use sqlite:///FILE or "
                         "postgresql://user@host:port/db") from None
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _):
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        metadata.create_all(engine)
        with engine.begin() as conn:
            if conn.execute(select(counter.c.value).where(counter.c.name == "seq")).first() is None:
                conn.execute(counter.insert().values(name="seq", value=0))
    except OperationalError as e:
        first = str(e.orig).strip().splitlines()[0] if e.orig else str(e)
        raise StoreError(f"cannot open notes database {engine.url.render_as_string(hide_password=True)}: {first}") from None
    except SQLAlchemyError as e:
        if "UniqueViolation" in type(getattr(e, "orig", e)).__name__ or "UNIQUE" in str(e):
            pass  # another writer created the counter row first
        else:
            raise StoreError(f"notes database error: {e.__class__.__name__}") from None
    return engine


def _take_seq(conn, n: int) -> int:
    """Reserve `n` sequence numbers; the row lock is held until this transaction commits."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT value FROM cm_counter WHERE name = 'seq' FOR UPDATE"))
    end = conn.execute(update(counter).where(counter.c.name == "seq").values(value=counter.c.value + n)
                       .returning(counter.c.value)).scalar_one()
    return end - n + 1


@dataclass
class WriteResult:
    """What one ``write_notes`` call changed."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    forgotten: int = 0


def _blocks(existing_dnc: list[dict], channel: str) -> dict | None:
    for row in existing_dnc:
        if row["value"] in ("any", channel) or (channel == "callback" and row["value"] == "phone"):
            return row
    return None


def write_notes(engine: Engine, records: list[dict]) -> WriteResult:
    """Upsert note records in one transaction (idempotent on ``external_key``).

    Records need ``customer_id``, ``type``, ``value``, ``evidence``, ``response_id``,
    ``comment_date``, ``model_version`` and ``confidence``. Opt-outs only tighten: a
    channel preference for a customer with an active do_not_contact on that channel
    (or ``any``) is stored as a conflict for review, not as a note. Notes of a
    forgotten customer (tombstoned keys) are not brought back.
    """
    result = WriteResult()
    if not records:
        return result
    with engine.begin() as conn:
        keys = [r["external_key"] for r in records]
        existing = {}
        for i in range(0, len(keys), 500):
            for row in conn.execute(select(notes).where(notes.c.external_key.in_(keys[i:i + 500]))).mappings():
                existing[row["external_key"]] = dict(row)
        customers = sorted({r["customer_id"] for r in records if r["type"] in ("channel", "do_not_contact")})
        dnc: dict[str, list[dict]] = {}
        for i in range(0, len(customers), 500):
            q = select(notes).where(notes.c.customer_id.in_(customers[i:i + 500]), notes.c.type == "do_not_contact",
                                    notes.c.op == "upsert")
            for row in conn.execute(q).mappings():
                dnc.setdefault(row["customer_id"], []).append(dict(row))
        changes, blocked = [], []
        # do_not_contact first, so an opt-out in the same batch blocks a channel preference
        for r in sorted(records, key=lambda r: r["type"] != "do_not_contact"):
            old = existing.get(r["external_key"])
            if old is not None and (old["op"] == "delete" or all(old[f] == r[f] for f in ("value", "evidence"))):
                result.unchanged += 1
                continue
            if r["type"] == "channel":
                blocker = _blocks(dnc.get(r["customer_id"], []), r["value"])
                if blocker is not None:
                    blocked.append((r, blocker))
                    continue
            if r["type"] == "do_not_contact":
                dnc.setdefault(r["customer_id"], []).append(r)
            changes.append((r, old))
        if changes:
            first = _take_seq(conn, len(changes))
            for offset, (r, old) in enumerate(changes):
                row = {f: r.get(f) for f in NOTE_FIELDS if f != "seq"}
                row.update(seq=first + offset, op="upsert", extracted_at=r.get("extracted_at") or now())
                if old is None:
                    conn.execute(notes.insert().values(**row))
                    result.inserted += 1
                else:
                    conn.execute(update(notes).where(notes.c.external_key == r["external_key"]).values(**row))
                    result.updated += 1
        for r, blocker in blocked:
            exists = conn.execute(select(conflicts.c.id).where(conflicts.c.external_key == r["external_key"])).first()
            if exists is None:
                conn.execute(conflicts.insert().values(
                    external_key=r["external_key"], customer_id=r["customer_id"], type=r["type"], value=r["value"],
                    evidence=r["evidence"], response_id=r.get("response_id"), blocked_by=blocker["external_key"],
                    reason=f"do_not_contact {blocker['value']} is active", created_at=now()))
                result.conflicts += 1
            else:
                result.unchanged += 1
    return result


def pull(engine: Engine, after: int = 0, limit: int = 1000) -> list[dict]:
    """Changes with ``seq > after`` in seq order, at most `limit`; the last ``seq`` is the next cursor."""
    if after < 0 or limit <= 0:
        raise StoreError("--after must be >= 0 and --limit > 0")
    with engine.connect() as conn:
        rows = conn.execute(select(notes).where(notes.c.seq > after).order_by(notes.c.seq).limit(limit)).mappings()
        return [_record(r) for r in rows]


def _record(row) -> dict:
    rec = {f: row[f] for f in NOTE_FIELDS}
    if rec["op"] == "delete":
        for f in ("value", "evidence"):
            rec[f] = ""
    return rec


def current_notes(engine: Engine) -> Iterator[dict]:
    """All live notes (no tombstones), in seq order."""
    with engine.connect() as conn:
        for row in conn.execute(select(notes).where(notes.c.op == "upsert").order_by(notes.c.seq)).mappings():
            yield _record(row)


def list_conflicts(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(conflicts).order_by(conflicts.c.id)).mappings()]


def forget(engine: Engine, customer_id: str) -> int:
    """Erase a customer's notes: each becomes a tombstone (``op=delete``, text cleared) with a new ``seq``."""
    with engine.begin() as conn:
        keys = [r[0] for r in conn.execute(select(notes.c.external_key).where(
            notes.c.customer_id == customer_id, notes.c.op == "upsert").order_by(notes.c.seq))]
        conn.execute(conflicts.delete().where(conflicts.c.customer_id == customer_id))
        if not keys:
            return 0
        first = _take_seq(conn, len(keys))
        for offset, key in enumerate(keys):
            conn.execute(update(notes).where(notes.c.external_key == key).values(
                op="delete", seq=first + offset, value="", evidence="", extracted_at=now()))
        return len(keys)
