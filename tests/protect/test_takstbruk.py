"""takstbruk in both protection modes, from a small hand-built cube (SYNTHETIC DATA):
compat applies exactly Helfo's documented rules; full protects the six tables together."""

from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest

from helsestat.build import protect_statistic
from helsestat.model import Cube, ProtectedTable
from helsestat.protect.audit import audit
from helsestat.protect.matrix import link_tables
from helsestat.reference.seed import packaged_reference
from helsestat.statistics.takstbruk import MEASURE_NAMES, TAKSTBRUK

#: The reference data claims are checked against and rules read: the packaged files.
REFERENCE = packaged_reference()

# Oslo and Bergen are large; Eigersund (~15 000) and Sokndal (~3 300) are in Rogaland.
KOMMUNER = ["0301", "4601", "1101", "1111"]
MONTHS = ["202401", "202402", "202403"]


def _cube() -> Cube:
    rng = np.random.default_rng(11)
    rows = []
    for kommune, month, takst in itertools.product(KOMMUNER, MONTHS, ["2ad", "2cd"]):
        if rng.random() < 0.15:
            continue  # no claims: the cell does not exist
        bills = int(rng.integers(1, 9)) if kommune in ("1101", "1111") else int(rng.integers(3, 60))
        rows.append(
            {
                "behandler_kommunenr": kommune,
                "maned": month,
                "takstkode": takst,
                "fagomraade": "LE",
                "praksis_type_kode": "F",
                "antall_regninger": bills,
                "sum_antall_takst": bills + int(rng.integers(0, 3)),
                "sum_refusjon": bills * 15_000,
                "sum_egenandel_betalt_av_pasient": bills * 4_000,
                "sum_egenandel_dekket_av_folketrygden": 0,
            }
        )
    finest = pa.Table.from_pylist(rows)
    tables = {}
    for grouping in (t.grouping for t in TAKSTBRUK.tables):
        t = finest.append_column(
            "behandler_fylke",
            pa.array([k[:2] for k in finest.column("behandler_kommunenr").to_pylist()]),
        ).append_column("ar", pa.array([m[:4] for m in finest.column("maned").to_pylist()]))
        keys = [g for g in grouping if g != "landet"]
        agg = t.group_by(keys).aggregate([(m, "sum") for m in MEASURE_NAMES])
        tables[grouping] = agg.rename_columns([*keys, *MEASURE_NAMES])
    return Cube(spec=TAKSTBRUK.spec, tables=tables)


def _protect(mode: str) -> list[ProtectedTable]:
    return protect_statistic(TAKSTBRUK.with_reference(REFERENCE), [], None, mode, 5, cube=_cube())  # type: ignore[arg-type]


def test_compat_mode_is_exactly_helfos_rules() -> None:
    tables = {t.name: t for t in _protect("compat")}
    for t in tables.values():
        assert "secondary" not in t.table.column("status").to_pylist()
    km = tables["takstbruk/kommune/maned"].table.to_pylist()
    assert {r["status_rule"] for r in km if r["behandler_kommunenr"] == "1111"} == {
        "population<=10000"
    }
    assert all(r["status"] == "published" for r in km if r["behandler_kommunenr"] == "0301")
    ka = tables["takstbruk/kommune/ar"].table.to_pylist()
    assert all((r["status"] == "primary") == (r["sum_antall_takst"] is None) for r in ka)
    assert tables["takstbruk/landet/ar"].notes == ()


@pytest.mark.parametrize("mode", ["full"])
def test_full_mode_protects_the_six_tables_together(mode: str) -> None:
    out = _protect(mode)
    cube = _cube()
    finished = [TAKSTBRUK.finish(cube.tables[t.grouping], t) for t in TAKSTBRUK.tables]
    suppressed, counts = [], []
    for table, original in zip(out, finished, strict=True):
        status = table.table.column("status").to_pylist()
        n = original.column("antall_regninger").to_pylist()
        for s, v in zip(status, n, strict=True):
            assert s != "published" or not 0 < v <= 5
        suppressed += [s != "published" for s in status]
        counts += n
        assert "no suppressed cell can be derived" in table.notes[-1]
    assert any(s == "secondary" for t in out for s in t.table.column("status").to_pylist())
    # an independent audit over all six tables: nothing suppressed is exactly derivable
    inner = finished[0]
    dims = [TAKSTBRUK.dimensions(t) for t in TAKSTBRUK.tables]
    x = link_tables(
        inner, [(t.name, f, d) for t, f, d in zip(TAKSTBRUK.tables, finished, dims, strict=True)]
    ).x
    y = np.asarray(inner.column("antall_regninger"), dtype=float)
    mask = np.array(suppressed)
    check = audit(x, x.T @ y, y, mask, lower=np.minimum(1.0, y), exact=True)
    assert not check.disclosed(mask).any()
