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

import pyarrow as pa

from helsestat.aggregate.duckdb_engine import DuckDBEngine
from helsestat.statistics.sob.measures import AGE_GROUPS, UNKNOWN_AGE, UNKNOWN_REASON
from helsestat.statistics.sob.measures import reason_flow as _reason_flow

UNKNOWN_LAN = "00"
_MONTH = "(year(tidpunkt) * 12 + month(tidpunkt) - 1)"
_DAY = "isodow(tidpunkt)"  # Monday = 1


@dataclass(frozen=True)
class RangeFacts:
    """The input of :func:`helsestat.aggregate.ranges.build_ranges` for the statistic."""

    flows: pa.Table
    appearances: Mapping[str, pa.Table]
    reasons: tuple[str, ...]


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


def _prepare(cursor: object, events: pa.Table | Sequence[Path], units: pa.Table) -> None:
    """Temp tables ``e`` (the Process events with their units' current HSA-ids, the
    vårdgivare's län and the month) and ``cases``."""
    source, table = _source(events)
    run = cursor.execute  # type: ignore[attr-defined]
    if table is not None:
        cursor.register("events", table)  # type: ignore[attr-defined]
    directory = units.select(["hsaid", "current_hsaid", "lan"])
    cursor.register("units", directory)  # type: ignore[attr-defined]
    run(
        f"""CREATE OR REPLACE TEMP TABLE e AS
        SELECT ev.* REPLACE (coalesce(g.current_hsaid, ev.vardgivare_hsaid) AS vardgivare_hsaid,
                             coalesce(u.current_hsaid, ev.vardenhet_hsaid) AS vardenhet_hsaid),
               coalesce(g.lan, '{UNKNOWN_LAN}') AS lan, {_MONTH} AS month, {_DAY} AS day
        FROM {source} ev
        LEFT JOIN units g ON g.hsaid = ev.vardgivare_hsaid
        LEFT JOIN units u ON u.hsaid = ev.vardenhet_hsaid
        WHERE ev.arendetyp = 'Process'"""
    )
    run(
        f"""CREATE OR REPLACE TEMP TABLE cases AS
        WITH s AS (
            SELECT arende_id, arg_min(lan, tidpunkt) AS lan,
                   arg_min(vardgivare_hsaid, tidpunkt) AS vardgivare,
                   arg_min(vardenhet_hsaid, tidpunkt) AS vardenhet,
                   arg_min(process_namn, tidpunkt) AS process,
                   arg_min(moment_namn, tidpunkt) AS moment,
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
        t AS (
            SELECT arende_id, count(DISTINCT treater) AS treaters FROM (
                SELECT arende_id, unnest(string_split(behandlare_hsaid, ';')) AS treater
                FROM e WHERE coalesce(behandlare_hsaid, '') <> '')
            WHERE treater <> '' GROUP BY arende_id)
        SELECT s.*, d.finish, d.finish_month, d.finish_day, d.orsak,
               coalesce(t.treaters, 0) AS treaters
        FROM s LEFT JOIN d USING (arende_id) LEFT JOIN t USING (arende_id)"""
    )


def cases(events: pa.Table | Sequence[Path], units: pa.Table, engine: DuckDBEngine) -> pa.Table:
    """One row per ärende of type ``Process`` that started: its attributes, start and
    finish (month index, ISO weekday), avslutningsorsak and number of treaters."""
    cursor = engine._cursor()
    try:
        _prepare(cursor, events, units)
        result: pa.Table = cursor.sql("SELECT * FROM cases ORDER BY arende_id").to_arrow_table()
        return result
    finally:
        cursor.close()


def range_facts(
    events: pa.Table | Sequence[Path], units: pa.Table, engine: DuckDBEngine
) -> RangeFacts:
    """The flows and appearances of the statistic's range cube (see
    :mod:`helsestat.statistics.sob.measures`)."""
    levels = "lan, vardgivare, vardenhet, process, moment"
    event_levels = (
        "lan, vardgivare_hsaid AS vardgivare, vardenhet_hsaid AS vardenhet, "
        "process_namn AS process, moment_namn AS moment"
    )
    cursor = engine._cursor()
    try:
        _prepare(cursor, events, units)
        reasons = tuple(
            str(r[0])
            for r in cursor.execute(
                "SELECT DISTINCT orsak FROM cases WHERE orsak IS NOT NULL ORDER BY 1"
            ).fetchall()
        )
        reason_sql = "".join(
            f", (orsak = '{r.replace(chr(39), chr(39) * 2)}')::INTEGER AS {_reason_flow(i)}"
            for i, r in enumerate(reasons)
        )
        no_reasons = "".join(f", 0 AS {_reason_flow(i)}" for i in range(len(reasons)))
        days = range(1, 8)
        started_days = "".join(f", (start_day = {d})::INTEGER AS startade_dag{d}" for d in days)
        finished_days = "".join(f", (finish_day = {d})::INTEGER AS avslutade_dag{d}" for d in days)
        zero_started = "".join(f", 0 AS startade_dag{d}" for d in days)
        zero_finished = "".join(f", 0 AS avslutade_dag{d}" for d in days)
        flows = cursor.sql(
            f"""SELECT {levels}, start_month AS month, 1 AS startade, 0 AS avslutade
                       {started_days}{zero_finished}{no_reasons} FROM cases
                UNION ALL
                SELECT {levels}, finish_month AS month, 0 AS startade, 1 AS avslutade
                       {zero_started}{finished_days}{reason_sql}
                FROM cases WHERE finish_month IS NOT NULL"""
        ).to_arrow_table()
        # persons and treaters as integer ids (dense within this build)
        cursor.execute(
            """CREATE OR REPLACE TEMP TABLE person_ids AS
               SELECT vardtagare_id, (row_number() OVER (ORDER BY vardtagare_id))::BIGINT AS entity
               FROM (SELECT DISTINCT vardtagare_id FROM e
                     WHERE coalesce(vardtagare_id, '') <> '')"""
        )
        invanare = cursor.sql(
            f"""SELECT {levels}, start_month AS month, p.entity FROM cases c
                JOIN person_ids p ON c.vardtagare = p.vardtagare_id"""
        ).to_arrow_table()
        behandlare = cursor.sql(
            f"""WITH t AS (
                    SELECT DISTINCT arende_id,
                           unnest(string_split(behandlare_hsaid, ';')) AS treater
                    FROM e WHERE coalesce(behandlare_hsaid, '') <> ''),
                ids AS (SELECT treater,
                               (row_number() OVER (ORDER BY treater))::BIGINT AS entity
                        FROM (SELECT DISTINCT treater FROM t WHERE treater <> ''))
                SELECT {levels}, start_month AS month, ids.entity FROM cases
                    JOIN t USING (arende_id) JOIN ids USING (treater)
                UNION ALL
                SELECT {levels}, finish_month AS month, ids.entity FROM cases
                    JOIN t USING (arende_id) JOIN ids USING (treater)
                    WHERE finish_month IS NOT NULL"""
        ).to_arrow_table()
        seen = cursor.sql(
            f"""SELECT {event_levels}, month, p.entity, coalesce(nullif(kon, ''), '') AS kon,
                       {_age_case()} AS aldersgrupp
                FROM e JOIN person_ids p USING (vardtagare_id)"""
        ).to_arrow_table()
    finally:
        cursor.close()
    return RangeFacts(
        flows=flows,
        appearances={
            "invanare": invanare,
            "behandlare": behandlare,
            "vardtagare": seen.drop_columns(["aldersgrupp"]),
            "vardtagare_alla": seen.drop_columns(["kon", "aldersgrupp"]),
            "vardtagare_alder": seen,
        },
        reasons=reasons,
    )


__all__ = ["UNKNOWN_LAN", "RangeFacts", "cases", "range_facts", "units_table"]
