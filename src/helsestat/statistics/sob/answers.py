"""The twelve tables of 1177 Stöd och behandling for any month range, from a release's range
cube, each protected before it is answered.

Every table is computed for the months ``first…last`` and the filters of the query (one
value each of ``lan``, ``vardgivare``, ``vardenhet``, ``process``, ``moment``: the *filter
node*). Counts of ärenden are sums over the range; persons and treaters are distinct over the
range. The drill-down tables (``region``, ``moment``) answer the filter node and the nodes
one level below it, so a client walks down the hierarchy by adding filters; ``niva`` names
each row's level, and a level the row does not split by is empty (``""``: every value).

Protection (seed 003: persons "visas bara … som överstiger 10st"): a count of persons
(``invanare``, ``vardtagare``) of 10 or fewer is suppressed (``primary``), the row's other
measures stay published (the table *guards* its person counts). Secondary suppression where
a hidden count could be derived from shown ones in the same answer:

- kön: the parts of a shown total (``vardtagare_kon``; and in ``vardtagare_kon_alder`` the
  age groups of a kön whose total is shown) are treated as adding up — a person has one kön
  in a range as a rule — so one hidden part never stands alone: the next smallest shown part
  is hidden too;
- kön across tables: the kön totals of ``vardtagare_kon_alder`` take the status the kön has
  in ``vardtagare_kon`` for the same query, and a hidden kön total never has all its age
  groups shown;
- a shown drill-down node's children are treated as adding up: one hidden child never
  stands beside shown siblings;
- a node with exactly one child row has the child's persons (the same set), so the two
  share the stricter status.

Equal sets give equal counts, and the primary rule depends only on the count, so the same
persons are hidden alike in every table and every range (a range and a wider one with no new
persons; a vårdgivare and its only vårdenhet). What the rule cannot prove for distinct
counts is written in docs/protect.md.

>>> # answer(data, "lan", SobQuery(first, last, {}))  → a ProtectedTable
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np

from helsestat.aggregate.ranges import RangeCube, month_text
from helsestat.errors import NotFoundError
from helsestat.model import RULE_COLUMN, STATUS_COLUMN, ProtectedTable
from helsestat.publish.index import Columns, TableIndex, Text, encode_text
from helsestat.statistics.serving import RangeQuery
from helsestat.statistics.sob.measures import (
    AGE_GROUPS,
    GEO,
    KON,
    PERSON_THRESHOLD,
    SERVICE,
    UNKNOWN_AGE,
    WEEKDAYS,
    reason_flow,
)

#: The filters every table takes, one value each.
FILTERS: Final = (*GEO, *SERVICE)
#: Person counts, guarded by the > 10 rule.
PERSONS: Final = ("invanare", "vardtagare")
TOTAL: Final = "totalt"
#: Filter combinations whose row lists a loaded cube keeps (the oldest go first).
MEMO_SIZE: Final = 4096


#: A month range and one value per filter (the statistics' query of a computed table).
SobQuery = RangeQuery


@dataclass
class SobData:
    """What a release holds for the statistic, loaded: the range cube, the avslutningsorsaker
    (in the order of their flows), names of units and län, and population per (län, year)
    with the year the figure is from (the nearest published one)."""

    cube: RangeCube
    reasons: tuple[str, ...]
    names: Mapping[str, str]
    population: Mapping[tuple[str, int], tuple[int, int]]
    first: int
    last: int
    _flow_at: dict[str, int] = field(default_factory=dict)
    #: what depends on the filters only (the rows a table lists), worked out once per filters
    _memo: dict[tuple[object, ...], Any] = field(default_factory=dict)
    #: dimension columns encoded (:meth:`text`), apart: some depend on the range too
    _texts: dict[tuple[str | None, ...], Text] = field(default_factory=dict)

    def memo(self, key: tuple[object, ...], make: Callable[[], Any]) -> Any:
        """The value kept under ``key``, made by ``make`` the first time (the cube does not
        change while it is loaded), at most :data:`MEMO_SIZE` of them."""
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= MEMO_SIZE:  # filters come from requests: kept bounded
                self._memo.pop(next(iter(self._memo)))
            found = self._memo[key] = make()
        return found

    def text(self, values: Sequence[str | None]) -> Text:
        """A dimension column given as a list, encoded (an empty level ``""``): the same
        list (the kön of every answer, the months of a range) is encoded once, at most
        :data:`MEMO_SIZE` lists kept."""
        key = tuple(values)
        found = self._texts.get(key)
        if found is None:
            if len(self._texts) >= MEMO_SIZE:  # ranges come from requests: kept bounded
                self._texts.pop(next(iter(self._texts)))
            found = self._texts[key] = encode_text(["" if v is None else v for v in values])
        return found

    def flow(self, name: str) -> int:
        """The column of a flow in :meth:`RangeCube.flows`."""
        if not self._flow_at:
            self._flow_at.update({f: i for i, f in enumerate(self.cube.spec.flows)})
        return self._flow_at[name]


@dataclass
class _Rows:
    """A table being filled: dimension and measure columns, row by row."""

    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    columns: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, **values: Any) -> None:
        for name in (*self.dimensions, *self.measures):
            self.columns.setdefault(name, []).append(values.get(name))

    def extend(self, **values: Sequence[Any] | np.ndarray | Text) -> None:
        """Whole columns at once, each of the same length (a missing one is empty). Into
        an empty table, a numpy column or an encoded text column is kept as it is (no list
        of Python values)."""
        length = len(next(iter(values.values()))) if values else 0
        for name in (*self.dimensions, *self.measures):
            given = values.get(name, [None] * length)
            if name not in self.columns and isinstance(given, np.ndarray | Text):
                self.columns[name] = given
            else:
                assert not isinstance(given, Text)
                self.columns.setdefault(name, []).extend(given)

    def __len__(self) -> int:
        return len(self.columns.get(self.dimensions[0], [])) if self.dimensions else 0


def _counts(data: SobData) -> tuple[int, int]:
    """The flows started and finished (what most tables read of the twenty and more)."""
    return data.flow("startade"), data.flow("avslutade")


def _node(data: SobData, fixed: Mapping[str, str]) -> int | None:
    return data.cube.node(fixed)


def _within(data: SobData, filters: Mapping[str, str], level: str, value: str) -> int | None:
    """The node of a row (``level`` = ``value``) inside the filter node; None when the
    filters exclude it."""
    if filters.get(level, value) != value:
        return None
    return _node(data, {**filters, level: value})


def _label(data: SobData, code: str | None) -> str | None:
    return None if code is None else data.names.get(code, code)


def _rows_of(
    data: SobData, filters: Mapping[str, str], level: str, path: int
) -> list[tuple[str, int]]:
    """The values of ``level`` (a first level of path ``path``) and their nodes inside the
    filter node, in the order of the values."""
    cube = data.cube
    root = _node(data, {})
    values = (
        sorted(str(cube.values(n)[level]) for n in cube.children(root, path))
        if root is not None
        else []
    )
    found = [(value, _within(data, filters, level, value)) for value in values]
    return [(value, n) for value, n in found if n is not None]


def _months(query: SobQuery) -> list[int]:
    return list(range(query.first, query.last + 1))


# -- the tables ------------------------------------------------------------------------------


def _lan(data: SobData, query: SobQuery) -> _Rows:
    rows = _Rows(
        ("lan", "lan_namn"),
        ("startade", "avslutade", "behandlare", "startade_per_100000"),
    )
    cube = data.cube
    picked: list[tuple[str, int]] = data.memo(
        ("lan", *sorted(query.filters.items())), lambda: _rows_of(data, query.filters, "lan", 0)
    )
    nodes = [n for _, n in picked]
    flows = cube.flows(nodes, query.first, query.last, _counts(data))
    treaters = cube.distinct("behandlare", nodes, query.first, query.last)
    year = query.last // 12
    for (lan, _), flow, treater in zip(picked, flows, treaters, strict=True):
        people, published = data.population.get((lan, year), (0, year))
        if people and published != year:
            note = (
                f"Invånare per län: SCB:s folkmängd 31 december {published} (senast publicerade "
                f"år i helsestats referensdata) används för {year}."
            )
            if note not in rows.notes:
                rows.notes.append(note)
        started = int(flow[0])
        rows.add(
            lan=lan,
            lan_namn=_label(data, lan),
            startade=started,
            avslutade=int(flow[1]),
            behandlare=int(treater),
            startade_per_100000=round(started / people * 100_000, 1) if people else None,
        )
    return rows


def _veckodag(data: SobData, query: SobQuery) -> _Rows:
    rows = _Rows(("veckodag",), ("startade", "avslutade"))
    node = _node(data, query.filters)
    if node is None:
        return rows
    flow = data.cube.flows([node], query.first, query.last)[0]
    for day, name in enumerate(WEEKDAYS, start=1):
        rows.add(
            veckodag=name,
            startade=int(flow[data.flow(f"startade_dag{day}")]),
            avslutade=int(flow[data.flow(f"avslutade_dag{day}")]),
        )
    return rows


def _process(data: SobData, query: SobQuery) -> _Rows:
    rows = _Rows(("process",), ("startade", "avslutade", "andel_avslutade"))
    picked: list[tuple[str, int]] = data.memo(
        ("process", *sorted(query.filters.items())),
        lambda: _rows_of(data, query.filters, "process", 1),
    )
    flows = data.cube.flows([n for _, n in picked], query.first, query.last, _counts(data))
    for (process, _), flow in zip(picked, flows, strict=True):
        started, finished = int(flow[0]), int(flow[1])
        rows.add(
            process=process,
            startade=started,
            avslutade=finished,
            andel_avslutade=round(finished / started, 4) if started else None,
        )
    return rows


def _ongoing(data: SobData, nodes: Sequence[int], month: int) -> np.ndarray:
    stock = data.cube.stock(nodes, month, _counts(data))
    ongoing: np.ndarray = stock[:, 0] - stock[:, 1]
    return ongoing


def _ongoing_by_month(data: SobData, nodes: Sequence[int], months: Sequence[int]) -> np.ndarray:
    """Ongoing at each month's end: shape (nodes, months)."""
    stock = data.cube.stock_by_month(nodes, months, _counts(data))
    ongoing: np.ndarray = stock[..., 0] - stock[..., 1]
    return ongoing


def _pagaende(data: SobData, query: SobQuery) -> _Rows:
    rows = _Rows(("manad",), ("pagaende",))
    node = _node(data, query.filters)
    if node is None:
        return rows
    months = _months(query)
    ongoing = _ongoing_by_month(data, [node], months)[0]
    rows.extend(manad=[month_text(m) for m in months], pagaende=ongoing.tolist())
    return rows


def _moments(data: SobData, filters: Mapping[str, str]) -> list[tuple[str, str, int]]:
    """(process, moment, node) of every moment under the filter node."""
    found: list[tuple[str, str, int]] = data.memo(
        ("moments", *sorted(filters.items())), lambda: _find_moments(data, filters)
    )
    return found


def _find_moments(data: SobData, filters: Mapping[str, str]) -> list[tuple[str, str, int]]:
    cube = data.cube
    node = _node(data, filters)
    if node is None:
        return []
    out = []
    processes = cube.children(node, 1) if cube.values(node)["process"] is None else [node]
    for process in processes:
        moments = cube.children(process, 1) if cube.values(process)["moment"] is None else [process]
        for moment in moments:
            values = cube.values(moment)
            out.append((str(values["process"]), str(values["moment"]), moment))
    return sorted(out)


def _pagaende_moment(data: SobData, query: SobQuery) -> _Rows:
    rows = _Rows(("manad", "process", "moment"), ("pagaende",))
    moments = _moments(data, query.filters)
    if not moments:
        return rows
    nodes = [n for _, _, n in moments]
    months = _months(query)
    ongoing = _ongoing_by_month(data, nodes, months)  # month by month, every moment in each
    # encoded columns: this table has a row per moment and month (thousands)
    process, moment = _moment_texts(data, query.filters)
    rows.extend(
        manad=Text(
            np.array([month_text(m) for m in months], object),  # in order as text too
            np.repeat(np.arange(len(months), dtype=np.int32), len(nodes)),
        ),
        process=Text(process.values, np.tile(process.codes, len(months))),
        moment=Text(moment.values, np.tile(moment.codes, len(months))),
        pagaende=ongoing.T.ravel(),
    )
    return rows


def _moment_texts(data: SobData, filters: Mapping[str, str]) -> tuple[Text, Text]:
    """The process and the moment of each of :func:`_moments`, encoded (once per filters)."""

    def make() -> tuple[Text, Text]:
        moments = _moments(data, filters)
        return encode_text([p for p, _, _ in moments]), encode_text([m for _, m, _ in moments])

    found: tuple[Text, Text] = data.memo(("moment_texts", *sorted(filters.items())), make)
    return found


_HIERARCHY_DIMS: Final = (
    "niva",
    "lan",
    "lan_namn",
    "vardgivare",
    "vardgivare_namn",
    "vardenhet",
    "vardenhet_namn",
    "process",
    "moment",
)


def _drill(
    data: SobData, query: SobQuery, order: Sequence[str], measures: tuple[str, ...]
) -> tuple[_Rows, list[int], list[int]]:
    """The filter node and the nodes one level below it, walking ``order`` (the levels a
    drill-down passes, coarse → fine); the measures of each. Returns the rows, the row of
    the filter node (a one-element list, or none) and the child rows."""
    rows = _Rows(_HIERARCHY_DIMS, measures)
    nodes, dimensions = data.memo(
        ("drill", *order, *sorted(query.filters.items())),
        lambda: _drill_rows(data, query.filters, order),
    )
    if not nodes:
        return rows, [], []
    cube = data.cube
    flows = cube.flows(nodes, query.first, query.last, _counts(data))
    ongoing = _ongoing(data, nodes, query.last) if "pagaende" in measures else None
    persons = cube.distinct("invanare", nodes, query.first, query.last)
    treaters = cube.distinct("behandlare", nodes, query.first, query.last)
    rows.extend(
        **dimensions,
        startade=flows[:, 0].tolist(),
        avslutade=flows[:, 1].tolist(),
        invanare=persons.tolist(),
        behandlare=treaters.tolist(),
        **({} if ongoing is None else {"pagaende": ongoing.tolist()}),
    )
    return rows, [0], list(range(1, len(nodes)))


def _drill_rows(
    data: SobData, filters: Mapping[str, str], order: Sequence[str]
) -> tuple[list[int], dict[str, Text]]:
    """What a drill-down's rows are for the filters, whatever the range: the nodes (the
    filter node first; none when the data hold nothing under the filters) and the dimension
    columns as published (an empty level ``""``)."""
    cube = data.cube
    node = _node(data, filters)
    if node is None:
        return [], {}
    values = cube.values(node)
    nxt = next((level for level in order if values.get(level) is None), None)
    children: list[int] = []
    if nxt is not None:
        path = 0 if nxt in GEO else 1
        children = list(cube.children(node, path))
        if nxt == "moment" and values.get("process") is None:  # moments of every process
            children = [m for p in children for m in cube.children(p, 1)]
    nodes = [node, *children]
    levels = cube.level_columns(nodes)
    niva = []
    for i in range(len(nodes)):
        deepest = TOTAL
        for level in order:
            if levels[level][i] is not None:
                deepest = level
        niva.append(deepest)
    columns: dict[str, list[str | None]] = {"niva": list(niva)}
    for level in GEO:
        columns[level] = levels[level]
        columns[f"{level}_namn"] = [_label(data, v) for v in levels[level]]
    for level in SERVICE:
        columns[level] = levels[level]
    dimensions = {
        name: encode_text(["" if v is None else v for v in columns[name]])
        for name in _HIERARCHY_DIMS
    }
    return nodes, dimensions


def _region(data: SobData, query: SobQuery) -> tuple[_Rows, list[int], list[int]]:
    return _drill(
        data,
        query,
        ("lan", "vardgivare", "vardenhet", "moment"),
        ("startade", "pagaende", "avslutade", "invanare", "behandlare"),
    )


def _moment(data: SobData, query: SobQuery) -> tuple[_Rows, list[int], list[int]]:
    return _drill(
        data,
        query,
        ("moment", "lan", "vardgivare", "vardenhet"),
        ("startade", "avslutade", "invanare", "behandlare"),
    )


def _manad(data: SobData, query: SobQuery) -> _Rows:
    rows = _Rows(("manad",), ("startade", "avslutade", "behandlare"))
    node = _node(data, query.filters)
    if node is None:
        return rows
    months = _months(query)
    flows = data.cube.flows_by_month([node], months, _counts(data))[0]
    rows.extend(
        manad=[month_text(m) for m in months],
        startade=flows[:, 0].tolist(),
        avslutade=flows[:, 1].tolist(),
        behandlare=data.cube.distinct_by_month("behandlare", [node], months)[0].tolist(),
    )
    return rows


def _avslutningsorsak(data: SobData, query: SobQuery) -> _Rows:
    rows = _Rows(("avslutningsorsak",), ("avslutade",))
    node = _node(data, query.filters)
    if node is None:
        return rows
    flow = data.cube.flows([node], query.first, query.last)[0]
    for i, reason in enumerate(data.reasons):
        rows.add(avslutningsorsak=reason, avslutade=int(flow[data.flow(reason_flow(i))]))
    return rows


def _kon_split(data: SobData, kon: str, group: str | None = None) -> int | None:
    found: int | None = data.memo(("split", kon, group), lambda: _find_split(data, kon, group))
    return found


def _find_split(data: SobData, kon: str, group: str | None) -> int | None:
    measure = "vardtagare" if group is None else "vardtagare_alder"
    values = {"kon": kon} if group is None else {"kon": kon, "aldersgrupp": group}
    found = data.cube.split_ids(measure, **values)
    return found[0] if found else None


def _persons(
    data: SobData, node: int, first: int, last: int, kon: str | None, group: str | None = None
) -> int:
    """Distinct vardtagare of the node in the range: of one kön (and age group), or all."""
    if kon is None:
        return int(data.cube.distinct("vardtagare_alla", [node], first, last)[0])
    split = _kon_split(data, kon, group)
    if split is None:
        return 0
    measure = "vardtagare" if group is None else "vardtagare_alder"
    return int(data.cube.distinct(measure, [node], first, last, split)[0])


def _vardtagare_kon_manad(data: SobData, query: SobQuery) -> _Rows:
    rows = _Rows(("manad", "kon"), ("vardtagare",))
    node = _node(data, query.filters)
    if node is None:
        return rows
    months = _months(query)
    columns = []  # per kön and the total: the persons of each month
    for code in KON:
        split = _kon_split(data, code)
        found = (
            data.cube.distinct_by_month("vardtagare", [node], months, split)[0]
            if split is not None
            else np.zeros(len(months), np.int64)
        )
        columns.append(found)
    columns.append(data.cube.distinct_by_month("vardtagare_alla", [node], months)[0])
    labels = [*KON.values(), TOTAL]
    rows.extend(
        manad=[month_text(m) for m in months for _ in labels],
        kon=labels * len(months),
        vardtagare=np.column_stack(columns).ravel().tolist(),
    )
    return rows


def _vardtagare_kon(data: SobData, query: SobQuery) -> _Rows:
    rows = _Rows(("kon",), ("vardtagare",))
    node = _node(data, query.filters)
    if node is None:
        return rows
    for code, label in KON.items():
        rows.add(kon=label, vardtagare=_persons(data, node, query.first, query.last, code))
    rows.add(kon=TOTAL, vardtagare=_persons(data, node, query.first, query.last, None))
    return rows


def _vardtagare_kon_alder(data: SobData, query: SobQuery) -> _Rows:
    rows = _Rows(("kon", "aldersgrupp"), ("vardtagare",))
    node = _node(data, query.filters)
    if node is None:
        return rows
    groups = [label for _, _, label in AGE_GROUPS] + [UNKNOWN_AGE]
    pairs = [(code, group) for code in KON for group in groups]
    splits = [_kon_split(data, code, group) for code, group in pairs]
    known = [(i, split) for i, split in enumerate(splits) if split is not None]
    counts = np.zeros(len(pairs), np.int64)
    if known:
        counts[[i for i, _ in known]] = data.cube.distinct(
            "vardtagare_alder", [node], query.first, query.last, [split for _, split in known]
        )
    per_kon = counts.reshape(len(KON), len(groups))
    for (code, label), row in zip(KON.items(), per_kon, strict=True):
        total = _persons(data, node, query.first, query.last, code)
        rows.extend(
            kon=[label] * (len(groups) + 1),
            aldersgrupp=[*groups, TOTAL],
            vardtagare=[*row.tolist(), total],
        )
    return rows


# -- protection ------------------------------------------------------------------------------


def _primary(values: Sequence[int | None]) -> list[str]:
    return ["primary" if v is not None and v <= PERSON_THRESHOLD else "published" for v in values]


def _hide_next(status: list[str], rules: list[str], values: Sequence[int], part: list[int]) -> None:
    """One hidden part of a shown total never stands alone: hide the smallest shown part."""
    hidden = [i for i in part if status[i] != "published"]
    shown = [i for i in part if status[i] == "published"]
    if len(hidden) == 1 and shown:
        pick = min(shown, key=lambda i: (values[i], i))
        status[pick] = "secondary"
        rules[pick] = "a part of a shown total beside one hidden part"


def _protect(
    name: str,
    rows: _Rows,
    parent: Sequence[int] = (),
    children: Sequence[int] = (),
    margins: Callable[[_Rows], list[tuple[int | None, list[int]]]] | None = None,
) -> tuple[list[str], list[str]]:
    """Statuses and rules of the rows: persons > 10 shown, then the relations."""
    guarded = [m for m in rows.measures if m in PERSONS]
    n = len(rows)
    if not guarded or not n:  # (no rows: a filter value under which the data hold none)
        return ["published"] * n, [""] * n
    values = [int(v) for v in rows.columns[guarded[0]]]
    status = _primary(values)
    rules = [f"{guarded[0]}<={PERSON_THRESHOLD}" if s == "primary" else "" for s in status]
    if margins is not None:
        for total, parts in margins(rows):
            if total is None or status[total] == "published":
                _hide_next(status, rules, values, parts)
    if len(parent) == 1 and status[parent[0]] == "published" and len(children) > 1:
        # persons seen at one child each would add up to the node: one hidden child never
        # stands beside shown siblings
        _hide_next(status, rules, values, list(children))
    if len(parent) == 1 and len(children) == 1:  # the same persons: the stricter status
        p, c = parent[0], children[0]
        if (status[p] == "published") != (status[c] == "published"):
            hidden = p if status[p] == "published" else c
            status[hidden] = "secondary"
            rules[hidden] = "the same persons as a hidden row"
    return status, rules


def _kon_rows_of(data: SobData, query: SobQuery, rows: _Rows) -> _Rows:
    """:func:`_vardtagare_kon` of the same query, its kön rows taken from the kön totals of
    ``vardtagare_kon_alder``'s rows (the same persons, counted alike): only the total is
    counted again."""
    labels, groups = rows.columns.get("kon", []), rows.columns.get("aldersgrupp", [])
    totals = {
        k: v
        for k, g, v in zip(labels, groups, rows.columns.get("vardtagare", []), strict=True)
        if g == TOTAL
    }
    if len(totals) != len(KON):  # (no rows: a filter under which the data hold none)
        return _vardtagare_kon(data, query)
    out = _Rows(("kon",), ("vardtagare",))
    node = _node(data, query.filters)
    assert node is not None
    for label in KON.values():
        out.add(kon=label, vardtagare=totals[label])
    out.add(kon=TOTAL, vardtagare=_persons(data, node, query.first, query.last, None))
    return out


def _align_kon_totals(
    data: SobData, query: SobQuery, rows: _Rows, status: list[str], rules: list[str]
) -> None:
    """vardtagare_kon_alder's kön totals are vardtagare_kon's persons per kön: a kön hidden
    there is hidden here as well, and a hidden kön total never has all its age groups shown
    (they would add up to it)."""
    kon_rows = _kon_rows_of(data, query, rows)
    kon_status, _ = _protect("vardtagare_kon", kon_rows, margins=_margins_by(None, "kon"))
    hidden_kon = {
        label
        for label, state in zip(kon_rows.columns.get("kon", []), kon_status, strict=True)
        if state != "published"
    }
    values = [int(v) for v in rows.columns.get("vardtagare", [])]
    labels, groups = rows.columns.get("kon", []), rows.columns.get("aldersgrupp", [])
    for label in dict.fromkeys(labels):
        members = [i for i, k in enumerate(labels) if k == label]
        total = next((i for i in members if groups[i] == TOTAL), None)
        parts = [i for i in members if groups[i] != TOTAL]
        if total is None:
            continue
        if label in hidden_kon and status[total] == "published":
            status[total] = "secondary"
            rules[total] = "the same persons as a hidden row of vardtagare_kon"
        shown = [i for i in parts if status[i] == "published"]
        if status[total] != "published" and parts and len(shown) == len(parts):
            pick = min(shown, key=lambda i: (values[i], i))
            status[pick] = "secondary"
            rules[pick] = "the parts of a hidden total never all shown"


def _margins_by(
    group: str | None, part: str
) -> Callable[[_Rows], list[tuple[int | None, list[int]]]]:
    """Totals and their parts: the rows whose ``part`` column is ``totalt`` and the other
    rows with the same ``group`` value (all rows when ``group`` is None)."""

    def margins(rows: _Rows) -> list[tuple[int | None, list[int]]]:
        parts = rows.columns.get(part, [])
        keys = rows.columns.get(group, []) if group else [None] * len(parts)
        totals: dict[object, int] = {}
        members: dict[object, list[int]] = {}
        for i, (key, value) in enumerate(zip(keys, parts, strict=True)):
            if value == TOTAL:
                totals[key] = i
            else:
                members.setdefault(key, []).append(i)
        return [(totals.get(key), members.get(key, [])) for key in dict.fromkeys(keys)]

    return margins


@dataclass(frozen=True)
class TableSpec:
    """One of the twelve tables: its name, Swedish title and how it is computed."""

    name: str
    title: str
    compute: Callable[[SobData, SobQuery], Any]
    dimensions: tuple[str, ...]
    measures: tuple[str, ...]
    drill: bool = False
    margins: Callable[[_Rows], list[tuple[int | None, list[int]]]] | None = None
    #: relations to another table of the same query, applied after the table's own rules
    align: Callable[[SobData, SobQuery, _Rows, list[str], list[str]], None] | None = None


TABLES: Final = (
    TableSpec(
        "lan",
        "Startade och avslutade moment samt behandlare per län",
        _lan,
        ("lan", "lan_namn"),
        ("startade", "avslutade", "behandlare", "startade_per_100000"),
    ),
    TableSpec(
        "veckodag",
        "Startade och avslutade moment per veckodag",
        _veckodag,
        ("veckodag",),
        ("startade", "avslutade"),
    ),
    TableSpec(
        "process",
        "Startade och avslutade moment per process",
        _process,
        ("process",),
        ("startade", "avslutade", "andel_avslutade"),
    ),
    TableSpec("pagaende", "Pågående moment över tid", _pagaende, ("manad",), ("pagaende",)),
    TableSpec(
        "pagaende_moment",
        "Pågående moment per moment",
        _pagaende_moment,
        ("manad", "process", "moment"),
        ("pagaende",),
    ),
    TableSpec(
        "region",
        "Startade, pågående och avslutade moment per region, vårdgivare, vårdenhet och moment",
        _region,
        _HIERARCHY_DIMS,
        ("startade", "pagaende", "avslutade", "invanare", "behandlare"),
        drill=True,
    ),
    TableSpec(
        "moment",
        "Startade och avslutade moment, invånare och behandlare per moment",
        _moment,
        _HIERARCHY_DIMS,
        ("startade", "avslutade", "invanare", "behandlare"),
        drill=True,
    ),
    TableSpec(
        "manad",
        "Startade och avslutade moment samt behandlare per månad",
        _manad,
        ("manad",),
        ("startade", "avslutade", "behandlare"),
    ),
    TableSpec(
        "avslutningsorsak",
        "Avslutade moment per avslutningsorsak",
        _avslutningsorsak,
        ("avslutningsorsak",),
        ("avslutade",),
    ),
    TableSpec(
        "vardtagare_kon_manad",
        "Vårdtagare per kön och månad",
        _vardtagare_kon_manad,
        ("manad", "kon"),
        ("vardtagare",),
        margins=_margins_by("manad", "kon"),
    ),
    TableSpec(
        "vardtagare_kon_alder",
        "Vårdtagare per kön och ålder",
        _vardtagare_kon_alder,
        ("kon", "aldersgrupp"),
        ("vardtagare",),
        margins=_margins_by("kon", "aldersgrupp"),
        align=_align_kon_totals,
    ),
    TableSpec(
        "vardtagare_kon",
        "Vårdtagare per kön",
        _vardtagare_kon,
        ("kon",),
        ("vardtagare",),
        margins=_margins_by(None, "kon"),
    ),
)
BY_NAME: Final = {t.name: t for t in TABLES}


def answer_columns(data: SobData, table: str, query: SobQuery, release: str = "") -> Columns:
    """Table ``table`` (one of :data:`TABLES`) for the query, protected, as the columns an
    index holds (:meth:`TableIndex.of_columns`): the rows are never written as Arrow
    columns to be read back."""
    spec = BY_NAME.get(table)
    if spec is None:
        raise NotFoundError(
            "table.not_found",
            f"1177 Stöd och behandling has no table {table!r}",
            hint="tables: " + ", ".join(BY_NAME),
        )
    computed = spec.compute(data, query)
    parent: list[int] = []
    children: list[int] = []
    if spec.drill:
        rows, parent, children = computed
    else:
        rows = computed
    status, rules = _protect(spec.name, rows, parent, children, spec.margins)
    if spec.align is not None:
        spec.align(data, query, rows, status, rules)
    guarded = tuple(m for m in rows.measures if m in PERSONS)
    n = len(status)
    texts: dict[str, Text] = {}
    for name in rows.dimensions:  # empty: the row covers every value of the level
        given = rows.columns.get(name, [])
        texts[name] = given if isinstance(given, Text) else data.text(given)
    hidden = (
        np.zeros(n, dtype=bool)
        if status.count("published") == n
        else np.array([s != "published" for s in status], dtype=bool)
    )
    values: dict[str, np.ndarray] = {}
    valid: dict[str, np.ndarray] = {}
    for name in rows.measures:
        given = rows.columns.get(name, [])
        if name in ("andel_avslutade", "startade_per_100000"):  # a share: None without one
            shown = np.array([v is not None for v in given], dtype=bool)
            values[name] = np.array([0.0 if v is None else v for v in given], np.float64)
        else:
            shown = np.ones(n, dtype=bool)
            values[name] = np.asarray(given, np.int64).reshape(n)
        if name in guarded and hidden.any():
            shown &= ~hidden
            values[name] = np.where(shown, values[name], 0)
        valid[name] = shown
    texts[STATUS_COLUMN] = encode_text(status)
    texts[RULE_COLUMN] = encode_text(rules)
    return Columns(
        f"sob/{spec.name}",
        spec.title,
        rows.dimensions,
        rows.measures,
        texts,
        values,
        valid,
        release,
        tuple(rows.notes),
        guarded,
    )


def answer_index(data: SobData, table: str, query: SobQuery, release: str = "") -> TableIndex:
    """:func:`answer`, indexed as the server serves it."""
    return TableIndex.of_columns(answer_columns(data, table, query, release))


def answer(data: SobData, table: str, query: SobQuery, release: str = "") -> ProtectedTable:
    """Table ``table`` (one of :data:`TABLES`) for the query, protected."""
    return answer_index(data, table, query, release).source


__all__ = [
    "BY_NAME",
    "FILTERS",
    "PERSONS",
    "TABLES",
    "SobData",
    "SobQuery",
    "TableSpec",
    "answer",
    "answer_columns",
    "answer_index",
]
