"""Where decisions are kept: SQLite (one file, no server; the default) or PostgreSQL, through one
interface and the same tests.

Each kind of record (``decisions``, ``shadow_decisions``, ``dead_letters``) is partitioned by day (the
UTC day it was decided or dead-lettered): SQLite gets a table per day, PostgreSQL a declarative range
partition per day. ``stored`` remembers every id once, whatever its day, so a record delivered twice
(the topics are at least once) is stored once. Retention drops whole days.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import urlparse

Kind = Literal["decisions", "shadow_decisions", "dead_letters"]
KINDS: Final[tuple[Kind, ...]] = ("decisions", "shadow_decisions", "dead_letters")
# The Labeling Measures (Art. 11) and the Cybersecurity Law (Art. 21) ask for at least six months of logs.
MIN_RETENTION_DAYS: Final = 180

COLUMNS: Final = (
    "id", "day", "at", "tenant", "scene", "content_id", "event_id", "action", "reason",
    "policy_version", "channel", "doc", "score_rumor", "score_vulgar", "score_impersonation",
)  # fmt: skip
# A decision's score per category, as columns, so that the threshold page's histogram is one query.
SCORE_COLUMNS: Final = {
    "rumor": "score_rumor",
    "vulgar": "score_vulgar",
    "impersonation": "score_impersonation",
}


def _sqlite_type(column: str) -> str:
    return "REAL" if column.startswith("score_") else "TEXT"


def _postgres_type(column: str) -> str:
    if column.startswith("score_"):
        return "double precision"
    return "date NOT NULL" if column == "day" else "text NOT NULL"


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One record to keep. ``id`` is what makes it the same record when delivered again: the event id
    for decisions, the source topic, partition and offset for a dead letter."""

    kind: Kind
    id: str
    day: date
    at: str
    tenant: str
    scene: str
    content_id: str
    event_id: str
    action: str
    reason: str
    policy_version: str
    channel: str
    doc: str
    # rumor, vulgar, impersonation (None where the decision has no such score)
    scores: tuple[float | None, float | None, float | None] = (None, None, None)

    def row(self) -> tuple[Any, ...]:
        return (
            self.id, self.day.isoformat(), self.at, self.tenant, self.scene, self.content_id, self.event_id,
            self.action, self.reason, self.policy_version, self.channel, self.doc, *self.scores,
        )  # fmt: skip


Verdict = Literal["violation", "no_violation", "escalate"]
VERDICTS: Final[tuple[Verdict, ...]] = ("violation", "no_violation", "escalate")


@dataclass(frozen=True, slots=True)
class Review:
    """A reviewer's verdict on a flagged decision: who, when, and why."""

    tenant: str
    event_id: str
    verdict: Verdict
    reviewer: str
    at: str
    note: str = ""

    def to_json(self) -> bytes:
        doc = {
            "tenant": self.tenant,
            "event_id": self.event_id,
            "verdict": self.verdict,
            "reviewer": self.reviewer,
            "at": self.at,
            "note": self.note,
        }
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")


class StoreError(ValueError):
    """A store that cannot be used as configured; the message says why."""


class Store:
    """The interface both databases implement."""

    def ingest(self, records: Sequence[StoredRecord]) -> int:  # pragma: no cover - interface
        """Keeps the records not kept before, in one transaction; returns how many were new."""
        raise NotImplementedError

    def days(self, kind: Kind) -> list[date]:  # pragma: no cover - interface
        raise NotImplementedError

    def rows(
        self, kind: Kind, day: date, tenant: str | None = None, id: str | None = None
    ) -> Iterator[dict[str, Any]]:  # pragma: no cover
        """The records of one day (one tenant's, or the one with ``id``), oldest first (by time, then id)."""
        raise NotImplementedError

    def purge(self, before: date) -> list[str]:  # pragma: no cover - interface
        """Drops every day before ``before``; returns the partitions dropped."""
        raise NotImplementedError

    def count(self, kind: Kind) -> int:
        """Records of a kind kept now (``stored`` has each once, and forgets purged days with them)."""
        return int(self._run(f"SELECT COUNT(*) FROM stored WHERE kind = {self._mark}", (kind,))[0][0])

    def decision(self, event_id: str, kind: Kind = "decisions") -> dict[str, Any] | None:
        """The stored decision (or shadow decision) of an event, or None: its day from ``stored``, then
        that day's partition only."""
        found = self._run(
            f"SELECT day FROM stored WHERE kind = {self._mark} AND id = {self._mark}", (kind, event_id)
        )
        if not found:
            return None
        stamp = found[0][0]
        day = stamp if isinstance(stamp, date) else date.fromisoformat(str(stamp))
        return next(self.rows(kind, day, id=event_id), None)

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:  # pragma: no cover
        """Runs one statement (placeholders ``self._mark``); its rows, if it returns any."""
        raise NotImplementedError

    def _setup_shared(self) -> None:
        for statement in _shared_schema():
            self._run(statement)

    def add_review(self, review: Review) -> None:
        marks = ", ".join([self._mark] * 7)
        self._run(
            f"INSERT INTO reviews ({REVIEW_COLUMNS}, seq) VALUES ({marks})",
            (*_review_row(review), time.time_ns()),
        )

    def reviews(self, tenant: str | None = None) -> list[Review]:
        """Every review, oldest first; a decision reviewed again keeps every review (the last counts)."""
        where, args = (f"WHERE tenant = {self._mark}", (tenant,)) if tenant is not None else ("", ())
        return [
            Review(*row)
            for row in self._run(f"SELECT {REVIEW_COLUMNS} FROM reviews {where} ORDER BY at, seq", args)
        ]

    def add_action(self, who: str, action: str, detail: str) -> None:
        """Records a change made through the console (the audit trail of its users' actions)."""
        marks = ", ".join([self._mark] * 5)
        self._run(
            f"INSERT INTO console_actions (at, who, action, detail, seq) VALUES ({marks})",
            (_now(), who, action, detail, time.time_ns()),
        )

    def _select(
        self, sql: str, since: date, args: tuple[Any, ...]
    ) -> list[tuple[Any, ...]]:  # pragma: no cover
        """``sql`` (with ``{table}`` and ``{day}`` to fill) over the decisions since ``since``."""
        raise NotImplementedError

    def histogram(self, category: str, since: date) -> dict[int, int]:
        """Decisions since ``since`` per hundredth of their ``category`` score: bin -> count."""
        column = SCORE_COLUMNS[category]
        counts: dict[int, int] = {}
        sql = (
            f"SELECT CAST({column} * 100 AS INTEGER) AS bin, COUNT(*) FROM {{table}} "
            f"WHERE {column} IS NOT NULL AND {{day}} GROUP BY bin"
        )
        for bin_, count in self._select(sql, since, ()):
            counts[min(int(bin_), 99)] = counts.get(min(int(bin_), 99), 0) + int(count)
        return counts

    def crossing(
        self, category: str, since: date, old: tuple[float, float], new: tuple[float, float], limit: int = 10
    ) -> list[tuple[str, float]]:
        """Decisions since ``since`` whose action under the thresholds ``old`` (flag, block) differs from
        their action under ``new``: (event_id, score), newest first."""
        column = SCORE_COLUMNS[category]

        def action(flag: str, block: str) -> str:
            return f"CASE WHEN {column} >= {block} THEN 2 WHEN {column} >= {flag} THEN 1 ELSE 0 END"

        mark = self._mark
        sql = (
            f"SELECT event_id, {column}, at FROM {{table}} WHERE {column} IS NOT NULL AND {{day}} "
            f"AND {action(mark, mark)} <> {action(mark, mark)} ORDER BY at DESC LIMIT {int(limit)}"
        )
        rows = self._select(sql, since, (old[1], old[0], new[1], new[0]))  # block, then flag, per CASE
        rows.sort(key=lambda row: row[2], reverse=True)
        return [(str(event_id), float(score)) for event_id, score, _ in rows[:limit]]

    _mark = "?"

    def actions(self) -> list[tuple[str, str, str, str]]:
        """(at, who, action, detail) of every recorded console action, oldest first."""
        rows = self._run("SELECT at, who, action, detail FROM console_actions ORDER BY at, seq")
        return [(str(a), str(b), str(c), str(d)) for a, b, c, d in rows]

    def queue(
        self,
        tenant: str,
        *,
        category: str | None = None,
        scene: str | None = None,
        reason: str | None = None,
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Flagged decisions of a tenant with no final verdict yet (escalated ones stay), oldest first,
        filtered by a reason's category, the scene, or a reason code."""
        final = {r.event_id for r in self.reviews(tenant) if r.verdict != "escalate"}
        found: list[dict[str, Any]] = []
        for day in self.days("decisions"):
            for row in self.rows("decisions", day, tenant):
                if row["action"] != "flag" or row["event_id"] in final:
                    continue
                if scene is not None and row["scene"] != scene:
                    continue
                reasons = json.loads(row["doc"])["reasons"]
                if category is not None and all(r["category"] != category for r in reasons):
                    continue
                if reason is not None and all(r["code"] != reason for r in reasons):
                    continue
                found.append(row)
                if len(found) >= limit:
                    return found
        return found

    def close(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError


REVIEW_COLUMNS: Final = "tenant, event_id, verdict, reviewer, at, note"
REVIEWS_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS reviews (tenant TEXT NOT NULL, event_id TEXT NOT NULL, "
    "verdict TEXT NOT NULL, reviewer TEXT NOT NULL, at TEXT NOT NULL, note TEXT NOT NULL, "
    "seq BIGINT NOT NULL)"
)
# A review's place among those of the same instant: nanoseconds when it was stored.
REVIEWS_INDEX: Final = "CREATE INDEX IF NOT EXISTS reviews_event ON reviews (tenant, event_id)"
STORED_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS stored (kind text NOT NULL, id text NOT NULL, day date NOT NULL, "
    "PRIMARY KEY (kind, id))"
)
ACTIONS_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS console_actions (at TEXT NOT NULL, who TEXT NOT NULL, action TEXT NOT NULL, "
    "detail TEXT NOT NULL, seq BIGINT NOT NULL)"
)


def _shared_schema() -> tuple[str, ...]:
    return (
        STORED_TABLE,
        "CREATE INDEX IF NOT EXISTS stored_day ON stored (day)",
        REVIEWS_TABLE,
        REVIEWS_INDEX,
        ACTIONS_TABLE,
    )


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _review_row(review: Review) -> tuple[str, ...]:
    return (review.tenant, review.event_id, review.verdict, review.reviewer, review.at, review.note)


def partition(kind: Kind, day: date) -> str:
    return f"{kind}_p{day:%Y%m%d}"


def _day_of(name: str) -> date:
    stamp = name.rsplit("_p", 1)[1]
    return date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))


class SqliteStore(Store):
    """One SQLite file; a table per kind and day. Writes go through one connection (WAL mode lets the
    console read while the sink writes)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._setup_shared()
        self._known = set(self._tables())

    def _tables(self) -> list[str]:
        rows = self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return sorted(name for (name,) in rows if "_p" in name and name.rsplit("_p", 1)[0] in KINDS)

    def _ensure(self, kind: Kind, day: date) -> str:
        name = partition(kind, day)
        if name not in self._known:
            columns = ", ".join(f"{c} {_sqlite_type(c)}" for c in COLUMNS)
            self.db.execute(f'CREATE TABLE IF NOT EXISTS "{name}" ({columns}, PRIMARY KEY (id))')
            for column in ("tenant", "at", "action", "content_id"):
                self.db.execute(f'CREATE INDEX IF NOT EXISTS "{name}_{column}" ON "{name}" ({column})')
            self._known.add(name)
        return name

    def ingest(self, records: Sequence[StoredRecord]) -> int:
        new = 0
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for record in records:
                cursor = self.db.execute(
                    "INSERT INTO stored (kind, id, day) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (record.kind, record.id, record.day.isoformat()),
                )
                if cursor.rowcount:
                    table = self._ensure(record.kind, record.day)
                    marks = ", ".join("?" for _ in COLUMNS)
                    self.db.execute(
                        f'INSERT INTO "{table}" ({", ".join(COLUMNS)}) VALUES ({marks})', record.row()
                    )
                    new += 1
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return new

    def days(self, kind: Kind) -> list[date]:
        return sorted(_day_of(name) for name in self._tables() if name.rsplit("_p", 1)[0] == kind)

    def rows(
        self, kind: Kind, day: date, tenant: str | None = None, id: str | None = None
    ) -> Iterator[dict[str, Any]]:
        name = partition(kind, day)
        if name not in self._known and name not in set(self._tables()):
            return
        conditions = [(c, v) for c, v in (("tenant", tenant), ("id", id)) if v is not None]
        where = ("WHERE " + " AND ".join(f"{c} = ?" for c, _ in conditions)) if conditions else ""
        args = tuple(v for _, v in conditions)
        cursor = self.db.execute(f'SELECT {", ".join(COLUMNS)} FROM "{name}" {where} ORDER BY at, id', args)
        for row in cursor:
            yield dict(zip(COLUMNS, row, strict=True))

    def purge(self, before: date) -> list[str]:
        dropped = [name for name in self._tables() if _day_of(name) < before]
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for name in dropped:
                self.db.execute(f'DROP TABLE "{name}"')
            self.db.execute("DELETE FROM stored WHERE day < ?", (before.isoformat(),))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self._known -= set(dropped)
        return dropped

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.db.execute(sql, args).fetchall()]

    def _select(self, sql: str, since: date, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = []
        for day in self.days("decisions"):
            if day >= since:
                query = sql.format(table=f'"{partition("decisions", day)}"', day="1 = 1")
                found += [tuple(row) for row in self.db.execute(query, args)]
        return found

    def close(self) -> None:
        self.db.close()


class PostgresStore(Store):
    """PostgreSQL: a parent table per kind, range-partitioned by day, partitions made on first use."""

    def __init__(self, dsn: str) -> None:
        import psycopg

        self.dsn = dsn
        self.db = psycopg.connect(dsn, autocommit=True)
        columns = ", ".join(f"{c} {_postgres_type(c)}" for c in COLUMNS)
        with self.db.transaction():
            self._setup_shared()
            for kind in KINDS:
                self.db.execute(
                    f"CREATE TABLE IF NOT EXISTS {kind} ({columns}, PRIMARY KEY (id, day)) "
                    "PARTITION BY RANGE (day)"
                )
                for column in ("tenant", "at", "action", "content_id"):
                    self.db.execute(f"CREATE INDEX IF NOT EXISTS {kind}_{column} ON {kind} ({column})")
        self._known = set(self._partitions())

    def _partitions(self) -> list[str]:
        rows = self.db.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = ANY(%s)",
            (list(KINDS),),
        ).fetchall()
        return sorted(name for (name,) in rows)

    def _ensure(self, kind: Kind, day: date) -> str:
        name = partition(kind, day)
        if name not in self._known:
            self.db.execute(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {kind} "
                f"FOR VALUES FROM ('{day.isoformat()}') TO ('{(day + timedelta(days=1)).isoformat()}')"
            )
            self._known.add(name)
        return name

    def ingest(self, records: Sequence[StoredRecord]) -> int:
        for record in records:  # partitions are DDL: made before the transaction that fills them
            self._ensure(record.kind, record.day)
        new = 0
        marks = ", ".join("%s" for _ in COLUMNS)
        with self.db.transaction():
            for record in records:
                cursor = self.db.execute(
                    "INSERT INTO stored (kind, id, day) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                    (record.kind, record.id, record.day),
                )
                if cursor.rowcount:
                    row = (*record.row()[:1], record.day, *record.row()[2:])
                    self.db.execute(f"INSERT INTO {record.kind} ({', '.join(COLUMNS)}) VALUES ({marks})", row)
                    new += 1
        return new

    def days(self, kind: Kind) -> list[date]:
        return sorted(_day_of(name) for name in self._partitions() if name.rsplit("_p", 1)[0] == kind)

    def rows(
        self, kind: Kind, day: date, tenant: str | None = None, id: str | None = None
    ) -> Iterator[dict[str, Any]]:
        conditions = [(c, v) for c, v in (("tenant", tenant), ("id", id)) if v is not None]
        where = "".join(f" AND {c} = %s" for c, _ in conditions)
        args = tuple(v for _, v in conditions)
        cursor = self.db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM {kind} WHERE day = %s {where} ORDER BY at, id", (day, *args)
        )
        for row in cursor:
            values = dict(zip(COLUMNS, row, strict=True))
            values["day"] = values["day"].isoformat()
            yield values

    def purge(self, before: date) -> list[str]:
        dropped = [name for name in self._partitions() if _day_of(name) < before]
        with self.db.transaction():
            for name in dropped:
                self.db.execute(f"DROP TABLE {name}")
            self.db.execute("DELETE FROM stored WHERE day < %s", (before,))
        self._known -= set(dropped)
        return dropped

    _mark = "%s"

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        cursor = self.db.execute(sql, args)
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []

    def _select(self, sql: str, since: date, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        query = sql.format(table="decisions", day=f"day >= '{since.isoformat()}'")
        return [tuple(row) for row in self.db.execute(query, args).fetchall()]

    def close(self) -> None:
        self.db.close()


def open_store(url: str) -> Store:
    """``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` or ``postgresql://...``."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
        if not path:
            raise StoreError(f"HUIYAN_STORE_URL: {url!r}: expected sqlite:///path/to/file.db")
        return SqliteStore(Path(path))
    if parsed.scheme in ("postgresql", "postgres"):
        return PostgresStore(url)
    raise StoreError(f"HUIYAN_STORE_URL: {url!r}: expected sqlite:///FILE or postgresql://...")


def decision_doc(doc: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(doc)
    return value
