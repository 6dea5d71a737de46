"""An independent attacker for the tests: what everything published in some releases pins
down, by the LP audit over the finest (inner) cells."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
from scipy import sparse

from helsestat.model import ProtectedTable
from helsestat.protect.audit import audit
from helsestat.protect.matrix import group_keys, link_tables


def disclosed_primary(
    inner: pa.Table,
    releases: Sequence[Sequence[ProtectedTable]],
    measure: str,
    *,
    rates: np.ndarray | None = None,
) -> list[tuple[str, int, dict[str, str]]]:
    """Primary cells of any release that the published cells of all releases pin down, as
    (table, row, dimension values), sorted. A release covers the inner cells its first
    (finest) table lists. ``rates`` (per inner cell): every published cell also tells
    rate × ``measure`` (an amount at a public tariff)."""
    cols, published, primary, cells = [], [], [], []
    for release in releases:
        dims = release[0].dimensions
        ki, kf = group_keys([inner.select(list(dims)), release[0].table.select(list(dims))], dims)
        existed = np.isin(ki, kf)
        for t in release:
            member = link_tables(inner, [(t.name, t.table, t.dimensions)]).x
            cols.append(sparse.csc_matrix(member.multiply(existed[:, None])))
            status = t.table.column("status").to_pylist()
            published += [s == "published" for s in status]
            primary += [s == "primary" for s in status]
            rows = t.table.select(list(t.dimensions)).to_pylist()
            cells += [(t.name, i, r) for i, r in enumerate(rows)]
    x = sparse.hstack(cols, format="csc")
    hidden = ~np.array(published)
    copies = 1
    if rates is not None:
        x = sparse.hstack([x, sparse.csc_matrix(x.multiply(rates[:, None]))], format="csc")
        copies = 2
    y = np.asarray(inner.column(measure), dtype=float)
    result = audit(x, x.T @ y, y, np.tile(hidden, copies), lower=np.minimum(1.0, y))
    found = result.disclosed(np.tile(hidden, copies))[: len(cells)] & np.array(primary)
    return sorted((cells[i] for i in np.flatnonzero(found)), key=lambda c: (c[0], c[1]))
