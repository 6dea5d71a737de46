"""From the stored events of 1177 Stöd och behandling to the facts of its range cube: one
ärende per row (:func:`cases`), then the flows and the appearances of persons and treaters
(:func:`range_facts`), on DuckDB.

The events are the accepted rows of the ``sob`` extract (``validate/sob.py``): one row per
status change, ``tidpunkt`` in Swedish local time, ``vardtagare_id`` and each of the
``;``-separated ``behandlare_hsaid`` already replaced by keyed pseudonyms. Only ärenden of
type ``Process`` count. An ärende's attributes (vårdgivare, vårdenhet, process, moment,
vardtagare) are those of its first ``Inprogress`` event; its treaters are every treater on
any of its events. Units are named by their current HSA-id and the geography is the län the
unit registry states *now* for the vårdgivare (``units``: the directory of
:func:`helsestat.reference.units.directory.hsa_directory`; a vårdgivare it does not know is
in län ``00``, *okänt*).

>>> import datetime as dt, pyarrow as pa
>>> from helsestat.aggregate import DuckDBEngine
>>> events = pa.table({
...     "arende_id": ["a", "a", "a"], "arendetyp": ["Process"] * 3,
...     "status": ["Inprogress", "Paused", "Done"],
...     "tidpunkt": [dt.datetime(2024, 1, 31, 9), dt.datetime(2024, 2, 1), dt.datetime(2024, 3, 4)],
...     "process_namn": ["Sömn"] * 3, "moment_namn": ["Steg 1"] * 3,
...     "vardgivare_hsaid": ["SE1"] * 3, "vardenhet_hsaid": ["SE1-E1"] * 3,
...     "vardtagare_id": ["p1"] * 3, "kon": ["K"] * 3, "alder": [30] * 3,
...     "behandlare_hsaid": ["t1", "t1;t2", None], "avslutningsorsak": [None, None, "Klar"]})
>>> with DuckDBEngine(threads=1) as engine:
...     found = cases(events, units_table({"SE1": "01"}), engine)
>>> row = found.to_pylist()[0]
>>> row["start_month"] - row["finish_month"], row["start_day"], row["treaters"]
(-2, 3, 2)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from helsestat.aggregate.duckdb_engine import DuckDBEngine
from helsestat.aggregate.ranges import RangeFacts
from helsestat.errors import HelsestatError
from helsestat.statistics.sob.measures import AGE_GROUPS, UNKNOWN_AGE, UNKNOWN_REASON
from helsestat.statistics.sob.measures import reason_flow as _reason_flow

UNKNOWN_LAN = "00"
_MONTH = "(year(tidpunkt) * 12 + month(tidpunkt) - 1)"
_DAY = "isodow(tidpunkt)"  # Monday = 1
#: The status of the event that carries the treaters of an ärende not started yet into the
#: next month's build (no measure counts it).
_CARRIED = "~carried"


@dataclass(frozen=True)
class SobFacts:
    """The coded facts of the statistic's range cube and the avslutningsorsaker found
    (the reason flows are numbered in this order)."""

    facts: RangeFacts
    reasons: tuple[str, ...]
    #: Every ärende with an event so far, as :func:`_prepare` carries it into the next month.
    carried: pa.Table | None = None
    #: The last month with an event, or None without events.
    last_month: int | None = None
    #: Ärenden started before the month whose treaters the month added to (their start
    #: month's treater counts change: not a month appended, see :func:`range_facts`).
    grown: int = 0


def _source(events: pa.Table | Sequence[Path]) -> tuple[str, pa.Table | None]:
    if isinstance(events, pa.Table):
        return "events", events
    files = ", ".join("'" + str(p).replace("'", "''") + "'" for p in events)
    return f"read_parquet([{files}], union_by_name = true)", None


def _age_case() -> str:
    parts = [
        f"WHEN alder BETWEEN {low} AND {high} THEN '{label}'" for low, high, label in AGE_GROUPS
    ]
    return f"CASE {' '.join(parts)} ELSE '{UNKNOWN_AGE}' END"


def units_table(lan_of: Mapping[str, str]) -> pa.Table:
    """A unit directory of vårdgivare HSA-id → län alone (ids as they are).

    >>> units_table({"SE1": "01"}).column_names
    ['hsaid', 'current_hsaid', 'lan']
    """
    ids = pa.array(list(lan_of), pa.string())
    return pa.table(
        {"hsaid": ids, "current_hsaid": ids, "lan": pa.array(list(lan_of.values()), pa.string())}
    )


_LEVELS = (
    ("lan", "lan"),
    ("vardgivare", "vardgivare_hsaid"),
    ("vardenhet", "vardenhet_hsaid"),
    ("process", "process_namn"),
    ("moment", "moment_namn"),
)


def _prepare(
    cursor: object,
    events: pa.Table | Sequence[Path],
    units: pa.Table,
    carried: pa.Table | None = None,
) -> None:
    """Temp tables ``e`` (the Process events: their finest combination ``f``, month and
    weekday and what the measures read), ``finest`` (``f`` and the level values: the
    vårdgivare's län, the units' current HSA-ids, process and moment) and ``cases``.

    ``carried`` (:attr:`SobFacts.carried` of the months before ``events``): the ärenden of
    ``events`` that earlier months know are put in ``e`` as they were at the last month's
    end — their first ``Inprogress`` (with the ärende's treaters so far), their first
    ``Done`` after it, or for one not started yet a pause carrying its treaters — so that
    ``cases`` sees each ärende whole."""
    source, table = _source(events)
    run = cursor.execute  # type: ignore[attr-defined]
    if table is not None:
        cursor.register("events", table)  # type: ignore[attr-defined]
    directory = units.select(["hsaid", "current_hsaid", "lan"])
    cursor.register("units", directory)  # type: ignore[attr-defined]
    level_sql = ", ".join(f"{column} AS {name}" for name, column in _LEVELS[3:])
    run(
        f"""CREATE OR REPLACE TEMP TABLE levels AS
        SELECT DISTINCT coalesce(g.lan, '{UNKNOWN_LAN}') AS lan,
               coalesce(g.current_hsaid, ev.vardgivare_hsaid) AS vardgivare,
               coalesce(u.current_hsaid, ev.vardenhet_hsaid) AS vardenhet,
               ev.vardgivare_hsaid AS given_vardgivare, ev.vardenhet_hsaid AS given_vardenhet,
               {level_sql}
        FROM (SELECT DISTINCT vardgivare_hsaid, vardenhet_hsaid, process_namn, moment_namn
              FROM {source} WHERE arendetyp = 'Process') ev
        LEFT JOIN units g ON g.hsaid = ev.vardgivare_hsaid
        LEFT JOIN units u ON u.hsaid = ev.vardenhet_hsaid"""
    )
    names = ", ".join(name for name, _ in _LEVELS)
    run(
        f"""CREATE OR REPLACE TEMP TABLE levels_f AS
        SELECT hash({names}) AS f, * FROM levels"""
    )
    run(
        f"""CREATE OR REPLACE TEMP TABLE finest AS
        SELECT f, {", ".join(f"min({n}) AS {n}, max({n}) AS max_{n}" for n, _ in _LEVELS)}
        FROM levels_f GROUP BY f"""
    )
    collisions = run(
        "SELECT count(*) FROM finest WHERE " + " OR ".join(f"{n} <> max_{n}" for n, _ in _LEVELS)
    ).fetchone()[0]
    if collisions:
        raise HelsestatError(
            "aggregate.hash_collision",
            "sob: two combinations of unit, process and moment share a hash",
            hint="report this: the range cube cannot be built from these values",
        )
    run(
        f"""CREATE OR REPLACE TEMP TABLE e AS
        SELECT ev.arende_id, ev.status, ev.tidpunkt, l.f, {_MONTH} AS month, {_DAY} AS day,
               ev.vardtagare_id, ev.kon, ev.alder, ev.behandlare_hsaid, ev.avslutningsorsak
        FROM {source} ev JOIN levels_f l
          ON l.given_vardgivare IS NOT DISTINCT FROM ev.vardgivare_hsaid
         AND l.given_vardenhet IS NOT DISTINCT FROM ev.vardenhet_hsaid
         AND l.process IS NOT DISTINCT FROM ev.process_namn
         AND l.moment IS NOT DISTINCT FROM ev.moment_namn
        WHERE ev.arendetyp = 'Process'"""
    )
    if carried is not None:
        cursor.register("carried_all", carried)  # type: ignore[attr-defined]
        run(
            """CREATE OR REPLACE TEMP TABLE carried AS
            SELECT * FROM carried_all WHERE arende_id IN (SELECT DISTINCT arende_id FROM e)"""
        )
        run(
            f"""INSERT INTO e BY NAME
            SELECT arende_id, 'Inprogress' AS status, start AS tidpunkt, f,
                   start_month AS month, start_day AS day, vardtagare AS vardtagare_id,
                   behandlare AS behandlare_hsaid
            FROM carried WHERE start IS NOT NULL
            UNION ALL BY NAME
            SELECT arende_id, 'Done' AS status, finish AS tidpunkt, f,
                   finish_month AS month, orsak AS avslutningsorsak
            FROM carried WHERE finish IS NOT NULL
            UNION ALL BY NAME
            SELECT arende_id, '{_CARRIED}' AS status, -1 AS month,
                   behandlare AS behandlare_hsaid
            FROM carried WHERE start IS NULL"""
        )
    run(
        """CREATE OR REPLACE TEMP TABLE pairs AS
        SELECT DISTINCT arende_id, treater FROM (
            SELECT arende_id, unnest(string_split(behandlare_hsaid, ';')) AS treater
            FROM e WHERE coalesce(behandlare_hsaid, '') <> '')
        WHERE treater <> ''"""
    )
    run(
        f"""CREATE OR REPLACE TEMP TABLE cases AS
        WITH s AS (
            SELECT arende_id, arg_min(f, tidpunkt) AS f,
                   arg_min(vardtagare_id, tidpunkt) AS vardtagare,
                   min(tidpunkt) AS start, arg_min(month, tidpunkt) AS start_month,
                   arg_min(day, tidpunkt) AS start_day
            FROM e WHERE status = 'Inprogress' GROUP BY arende_id),
        d AS (
            SELECT e.arende_id, min(e.tidpunkt) AS finish,
                   arg_min(e.month, e.tidpunkt) AS finish_month,
                   arg_min(e.day, e.tidpunkt) AS finish_day,
                   arg_min(coalesce(nullif(e.avslutningsorsak, ''), '{UNKNOWN_REASON}'),
                           e.tidpunkt) AS orsak
            FROM e JOIN s USING (arende_id)
            WHERE e.status = 'Done' AND e.tidpunkt >= s.start GROUP BY e.arende_id),
        t AS (SELECT arende_id, count(*) AS treaters FROM pairs GROUP BY arende_id)
        SELECT s.*, d.finish, d.finish_month, d.finish_day, d.orsak,
               coalesce(t.treaters, 0) AS treaters
        FROM s LEFT JOIN d USING (arende_id) LEFT JOIN t USING (arende_id)"""
    )


def _check_hashes(cursor: object, values: str, what: str) -> None:
    """Refuse a build where two of the distinct ``values`` (SQL over the temp tables) share
    a hash: the entity ids of the distinct counts are hashes, and a collision would count
    two persons as one."""
    found = cursor.execute(  # type: ignore[attr-defined]
        f"""SELECT count(*) FROM (SELECT hash(v) AS h, min(v) AS lo, max(v) AS hi
            FROM ({values}) GROUP BY h HAVING lo <> hi)"""
    ).fetchone()[0]
    if found:
        raise HelsestatError(
            "aggregate.hash_collision",
            f"sob: two {what} share a hash",
            hint="report this: the distinct counts cannot be built from these values",
        )


def cases(events: pa.Table | Sequence[Path], units: pa.Table, engine: DuckDBEngine) -> pa.Table:
    """One row per ärende of type ``Process`` that started: its levels, start and finish
    (month index, ISO weekday), avslutningsorsak and number of treaters."""
    cursor = engine._cursor()
    try:
        _prepare(cursor, events, units)
        result: pa.Table = cursor.sql(
            f"""SELECT c.* EXCLUDE (f), {", ".join(f"l.{n}" for n, _ in _LEVELS)}
                FROM cases c JOIN finest l USING (f) ORDER BY arende_id"""
        ).to_arrow_table()
        return result
    finally:
        cursor.close()


def _scalar(cursor: object, sql: str) -> Any:
    """The one value a query returns."""
    rows = cursor.execute(sql).fetchall()  # type: ignore[attr-defined]
    return rows[0][0] if rows else None


#: The ärenden to carry into the next month: every one started (a later event changes
#: nothing but its treaters) and every one not started yet that has treaters (its other
#: events count in no measure once their month is built); the person only while open.
_CARRIED_SQL = """
    WITH tr AS (
        SELECT arende_id, string_agg(treater, ';' ORDER BY treater) AS behandlare
        FROM pairs GROUP BY arende_id)
    SELECT arende_id, c.f, CASE WHEN c.finish IS NULL THEN c.vardtagare END AS vardtagare,
           c.start, c.start_month, c.start_day, c.finish, c.finish_month, c.orsak,
           tr.behandlare
    FROM cases c FULL JOIN tr USING (arende_id)"""


def range_facts(
    events: pa.Table | Sequence[Path],
    units: pa.Table,
    engine: DuckDBEngine,
    *,
    carried: pa.Table | None = None,
    month: int | None = None,
    reasons: Sequence[str] | None = None,
) -> SobFacts:
    """The coded facts of the statistic's range cube (see
    :mod:`helsestat.statistics.sob.measures`), with the avslutningsorsaker found and the
    ärenden to carry into the next month.

    With ``month`` (one month of events after every earlier one, and what the earlier
    months ``carried``): the facts of that month only — its started ärenden, those finished
    in it (started then or before), their treaters, the persons seen in it — counted as a
    build over every month would count them; ``grown`` says how many ärenden started
    before it gained a treater in it (the facts of earlier months would change too).
    ``reasons``: the avslutningsorsaker the flows are numbered by (default: those found);
    the ones found are :attr:`SobFacts.reasons` either way."""
    cursor = engine._cursor()
    try:
        _prepare(cursor, events, units, carried)
        only = "true" if month is None else f"month = {int(month)}"
        starts = "true" if month is None else f"start_month = {int(month)}"
        finishes = "true" if month is None else f"finish_month = {int(month)}"
        last = _scalar(cursor, "SELECT max(month) FROM e")
        grown = 0
        if carried is not None:
            grown = _scalar(
                cursor,
                f"""SELECT count(*) FROM cases c JOIN carried k USING (arende_id)
                    WHERE c.start_month < {int(month or 0)} AND c.treaters >
                        coalesce(len(string_split(k.behandlare, ';')), 0)""",
            )
        now = cursor.sql(_CARRIED_SQL).to_arrow_table()
        if carried is not None:
            before = cursor.sql(
                "SELECT * FROM carried_all WHERE arende_id NOT IN (SELECT arende_id FROM carried)"
            ).to_arrow_table()
            now = pa.concat_tables([before, now.cast(before.schema)])
        _check_hashes(
            cursor,
            "SELECT DISTINCT vardtagare_id AS v FROM e WHERE coalesce(vardtagare_id, '') <> ''",
            "vårdtagare",
        )
        _check_hashes(
            cursor,
            "SELECT DISTINCT unnest(string_split(behandlare_hsaid, ';')) AS v FROM e "
            "WHERE coalesce(behandlare_hsaid, '') <> ''",
            "behandlare",
        )
        found = tuple(
            str(r[0])
            for r in cursor.execute(
                f"SELECT DISTINCT orsak FROM cases WHERE orsak IS NOT NULL AND {finishes} "
                "ORDER BY 1"
            ).fetchall()
        )
        listed = found if reasons is None else tuple(reasons)
        reason_sql = "".join(
            f", count_if(orsak = '{r.replace(chr(39), chr(39) * 2)}')::INTEGER AS {_reason_flow(i)}"
            for i, r in enumerate(listed)
        )
        no_reasons = "".join(f", 0 AS {_reason_flow(i)}" for i in range(len(listed)))
        days = range(1, 8)
        started_days = "".join(
            f", count_if(start_day = {d})::INTEGER AS startade_dag{d}" for d in days
        )
        finished_days = "".join(
            f", count_if(finish_day = {d})::INTEGER AS avslutade_dag{d}" for d in days
        )
        zero_started = "".join(f", 0 AS startade_dag{d}" for d in days)
        zero_finished = "".join(f", 0 AS avslutade_dag{d}" for d in days)
        flows = cursor.sql(
            f"""SELECT f, start_month AS month, count(*)::INTEGER AS startade, 0 AS avslutade
                       {started_days}{zero_finished}{no_reasons}
                FROM cases WHERE {starts} GROUP BY ALL
                UNION ALL
                SELECT f, finish_month AS month, 0 AS startade, count(*)::INTEGER AS avslutade
                       {zero_started}{finished_days}{reason_sql}
                FROM cases WHERE finish_month IS NOT NULL AND {finishes} GROUP BY ALL"""
        ).to_arrow_table()
        invanare = cursor.sql(
            f"""SELECT DISTINCT f, start_month AS month, hash(vardtagare) AS entity
               FROM cases WHERE coalesce(vardtagare, '') <> '' AND {starts}"""
        ).to_arrow_table()
        behandlare = cursor.sql(
            f"""SELECT DISTINCT f, month, entity FROM (
                    SELECT f, start_month AS month, hash(treater) AS entity
                    FROM cases JOIN pairs USING (arende_id)
                    UNION ALL
                    SELECT f, finish_month AS month, hash(treater) AS entity
                    FROM cases JOIN pairs USING (arende_id)
                    WHERE finish_month IS NOT NULL) WHERE {only}"""
        ).to_arrow_table()
        seen = cursor.sql(
            f"""SELECT DISTINCT f, month, hash(vardtagare_id) AS entity,
                       coalesce(kon, '') AS kon, {_age_case()} AS aldersgrupp
                FROM e WHERE coalesce(vardtagare_id, '') <> '' AND {only}"""
        ).to_arrow_table()
        finest = cursor.sql(
            f"SELECT f, {', '.join(n for n, _ in _LEVELS)} FROM finest ORDER BY f"
        ).to_arrow_table()
    finally:
        cursor.close()
    return SobFacts(
        RangeFacts(
            finest,
            flows,
            {
                "invanare": invanare,
                "behandlare": behandlare,
                "vardtagare": seen.drop_columns(["aldersgrupp"]),
                "vardtagare_alla": seen.drop_columns(["kon", "aldersgrupp"]),
                "vardtagare_alder": seen,
            },
        ),
        found,
        now,
        None if last is None else int(last),
        int(grown),
    )


__all__ = ["UNKNOWN_LAN", "SobFacts", "cases", "range_facts", "units_table"]
