"""Agreement with the anchors (tests/protect/anchor_cases, produced by running GaussSuppression,
sdcTable and tau-Argus): cell for cell where helsestat runs the same algorithm with the same
options, and never unsafe where an anchor is (the report's 4×4 and linked-region examples).

The cases not compared here, and why, are listed in ``NOT_COMPARED`` (docs/protect.md
repeats the table)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from anchors import CASES, Case, load
from scipy import sparse

from helsestat.protect.audit import audit
from helsestat.protect.candidates import candidate_order, magnitude_order
from helsestat.protect.engine import Problem, solve
from helsestat.protect.gauss import gauss_suppress


def test_the_anchor_cases_are_present() -> None:
    # never skip silently: the agreement tests below need the anchors' recorded results
    assert CASES.is_dir(), f"anchor cases missing at {CASES}: they are part of the repository"


GEO = {"geo": ["geo", "eu"]}
AGE_GEO = [["age"], ["geo", "eu"]]


@dataclass(frozen=True)
class Freq:
    """A frequency-table case and the anchor options it was run with."""

    name: str
    freq: str
    max_n: int
    columns: dict[str, list[str]] | None = None
    extend0: list[list[str]] | None = None
    protect_zeros: bool = True
    secondary_zeros: bool = False
    method: str | None = None
    structural_empty: bool = False
    order: str = "default"  # "default": CandidatesDefault; "index": 1:ncol(x) (sdcTable)
    out_freq: str | None = None
    subdir: str = ""


FREQUENCY = [
    Freq("gauss_z1_2dim", "ant", 3),
    Freq("gauss_z2_hier_4var", "ant", 3, {"region": ["region", "fylke", "kostragr"]}),
    Freq(
        "gauss_z3_6var_default",
        "ant",
        3,
        {"region": ["region", "fylke", "kostragr"], "mnd": ["mnd", "mnd2"]},
    ),
    Freq("gauss_vig_small_t1_age_geo_maxN1", "freq", 1, extend0=[["age"], ["geo"]]),
    Freq("gauss_vig_small_t2_hier_age_geo_eu_maxN2", "freq", 2, GEO, AGE_GEO),
    Freq("gauss_vig_small_t3_formula", "freq", 2, GEO, AGE_GEO),
    Freq("gauss_vig_small_t4_protectZerosFALSE", "freq", 4, GEO, AGE_GEO, protect_zeros=False),
    Freq(
        "gauss_vig_small_t5_secondaryZeros",
        "freq",
        3,
        GEO,
        AGE_GEO,
        protect_zeros=False,
        secondary_zeros=True,
    ),
    Freq("gauss_vig_small_t6_structuralEmpty", "freq", 2, GEO, structural_empty=True),
    Freq("gauss_small_3dim_age_geo_year_maxN2", "freq", 2, GEO, [["age"], ["geo", "eu"], ["year"]]),
    Freq("gauss_intervals_small_t2_lpSolve", "freq", 2, GEO, AGE_GEO),
    Freq("gauss_intervals_small_t2_Rglpk", "freq", 2, GEO, AGE_GEO),
    Freq(
        "gauss_linked_sdctable_region_example_global_single_table",
        "n",
        3,
        {"region": ["region", "county", "group"]},
        [["region", "county", "group"]],
    ),
    Freq(
        "gauss_linked_d53_4tables_global_recordAwareFALSE",
        "freq",
        3,
        protect_zeros=False,
        method="none",
    ),
    Freq(
        "gauss_linked_d53_4tables_global_recordAwareTRUE",
        "freq",
        3,
        protect_zeros=False,
        method="none",
    ),
    Freq("sdctable_4x4_wb_problem_GAUSS", "freq", -1, order="index", out_freq="Freq"),
]

NOT_COMPARED = {
    "gauss_core_example_var1xvar2 variant E": "cell_grouping (the consistent linked mode)",
    "gauss_z3_6var_maxN5_anySumOld": "singletonMethod anySumOld, an older singleton method",
    "gauss_mag_dominance_n1k80": "default singletonMethod numttHTT (singleton elimination)",
    "gauss_mag_dominance_hier_n12_k80_99": "numttHTT",
    "gauss_mag_fewcontributors_maxN1": "numttHTT",
    "gauss_mag_ppercent10_hier_company": "numttHTT with contributor pre-aggregation",
    "gauss_intervals_dominance_rangePercent10_*": "numttHTT and the anchor's interval fix",
    "gauss_linked_magnitude1_*": "numttHTT; local/consistent modes",
    "gauss_linked_d53_4tables_{local,consistent,backtracking}_*": "non-global linked modes",
    "gauss_linked_sdctable_region_example_{local,consistent,back-tracking}": "unsafe modes",
    "sdctable_* OPT/HITAS/HYPERCUBE/SIMPLEHEURISTIC_OLD": "other algorithms (safety only)",
    "scr_*": "small-count rounding, not suppression",
}


def _run(spec: Freq) -> tuple[Case, np.ndarray, np.ndarray]:
    case = load(
        spec.name,
        freq=spec.freq,
        columns=spec.columns,
        extend0=spec.extend0,
        out_freq=spec.out_freq,
        subdir=spec.subdir,
    )
    x = case.x
    f = np.asarray(x.T @ case.freq_inner)
    if spec.max_n < 0:  # primary cells given by the case
        primary = case.primary
    else:
        primary = f <= spec.max_n
        if not spec.protect_zeros:
            primary &= f != 0
        if spec.structural_empty:
            primary &= np.diff(x.indptr) > 0
    zeros = spec.protect_zeros or spec.secondary_zeros
    single = case.freq_inner == 0 if zeros else case.freq_inner == 1
    method = spec.method or ("anySumNOTprimary" if spec.secondary_zeros else "anySum")
    if spec.order == "index":
        order = np.arange(x.shape[1])
    else:
        order = candidate_order(x, f, secondary_zeros=spec.secondary_zeros)
    result = gauss_suppress(x, order, primary, singleton=single, singleton_method=method)  # type: ignore[arg-type]
    return case, primary, primary | result.secondary


@pytest.mark.parametrize("spec", FREQUENCY, ids=lambda s: s.name)
def test_frequency_cases_agree_cell_for_cell(spec: Freq) -> None:
    case, primary, suppressed = _run(spec)
    assert (primary == case.primary).all()
    assert np.flatnonzero(suppressed).tolist() == np.flatnonzero(case.suppressed).tolist()


def test_core_example_variants_agree() -> None:
    d = CASES / "gauss_core_example_var1xvar2"
    import json

    expected = json.loads((d / "expected.json").read_text())
    trip = np.loadtxt(d / "x_triplets.csv", delimiter=",", skiprows=1, dtype=int)
    x = sparse.csc_matrix((trip[:, 2], (trip[:, 0] - 1, trip[:, 1] - 1)))
    primary = np.array(expected["primary_cols"]) - 1
    variants = expected["variants"]
    for name in ("A", "B", "C", "D"):
        v = variants[name]
        cand = v.get("candidates", variants["B"]["candidates"] if name == "D" else None)
        order = np.arange(x.shape[1]) if cand is None else np.array(cand) - 1
        single = None
        if "singleton_inner" in v:
            single = np.zeros(x.shape[0], dtype=bool)
            single[np.array(v["singleton_inner"]) - 1] = True
        got = gauss_suppress(x, order, primary, singleton=single).secondary
        assert (np.flatnonzero(got) + 1).tolist() == sorted(v["secondary"]), name


def test_sdctable_microdata_gauss_agrees() -> None:
    from anchors import read_csv

    rows = read_csv(CASES / "sdctable_microdata1_region_gender_GAUSS" / "input.csv")
    out = read_csv(CASES / "sdctable_microdata1_region_gender_GAUSS" / "expected_output.csv")
    inner = sorted({(r["region"], r["gender"]) for r in rows})
    x = sparse.csc_matrix(
        np.array(
            [
                [o["region"] in ("total", i[0]) and o["gender"] in ("total", i[1]) for o in out]
                for i in inner
            ],
            dtype=int,
        )
    )
    primary = np.array([o["primary"] == "TRUE" for o in out])
    got = primary | gauss_suppress(x, np.arange(x.shape[1]), primary).secondary
    assert (np.flatnonzero(got) + 1).tolist() == [5, 6, 14, 15]  # asserted in sdcTable's tests


@pytest.mark.parametrize(
    "name",
    [
        "gauss_mag_dominance_n1k80_singletonNone",
        "pytauargus_mag_nk1_80_OPT",
        "pytauargus_mag_nk1_80_MOD",
    ],
)
def test_magnitude_pattern_without_singleton_method_agrees(name: str) -> None:
    case = load(name, freq="value")
    x = case.x
    value = x.T @ case.freq_inner
    largest = np.array(
        [
            np.abs(case.freq_inner[x.indices[x.indptr[j] : x.indptr[j + 1]]]).max(initial=0)
            for j in range(x.shape[1])
        ]
    )
    primary = (np.abs(value) > 0) & (largest > 0.8 * np.abs(value))  # dominance (1, 80)
    assert (primary == case.primary).all()
    order = magnitude_order(x, value, np.asarray(x.sum(axis=0)).ravel())
    got = primary | gauss_suppress(x, order, primary, singleton_method="none").secondary
    assert (got == case.suppressed).all()


@pytest.mark.parametrize(
    "name", ["gauss_intervals_small_t2_lpSolve", "gauss_intervals_small_t2_Rglpk"]
)
def test_audit_intervals_equal_the_anchors(name: str) -> None:
    case = load(name, freq="freq", columns=GEO, extend0=AGE_GEO)
    z = case.x.T @ case.freq_inner
    result = audit(case.x, z, case.freq_inner, case.suppressed, exact=True)
    for i, cell in enumerate(case.cells):
        if cell["lo"] != "NA":
            assert (result.lo[i], result.up[i]) == (float(cell["lo"]), float(cell["up"]))


def test_4x4_anchor_pattern_is_exactly_disclosed_and_ours_is_not() -> None:
    old = load("sdctable_4x4_wb_problem_SIMPLEHEURISTIC_OLD", freq="freq", out_freq="Freq")
    z = old.x.T @ old.freq_inner
    disclosed = audit(old.x, z, old.freq_inner, old.suppressed).disclosed(old.suppressed)
    assert [(old.cells[i]["v1"], old.cells[i]["v2"]) for i in np.flatnonzero(disclosed)] == [
        ("w", "b")
    ]
    ours = solve(Problem(old.x, z=z, y=old.freq_inner, primary=old.primary))
    assert not audit(old.x, z, old.freq_inner, ours.suppressed).disclosed(ours.suppressed).any()


@pytest.mark.parametrize(
    ("mode", "unsafe"),
    [("super-consistent", False), ("consistent", True), ("local", True), ("back-tracking", True)],
)
def test_linked_region_modes_and_ours(mode: str, unsafe: bool) -> None:
    name = f"gauss_linked_sdctable_region_example_{mode}"
    tables = [
        load(name, subdir=f"table_{k}", freq="n", columns={"region": ["region", col]})
        for k, col in ((1, "county"), (2, "group"))
    ]
    x = sparse.hstack([t.x for t in tables], format="csc")
    y = tables[0].freq_inner
    suppressed = np.concatenate([t.suppressed for t in tables])
    primary = np.concatenate([t.primary for t in tables])
    disclosed = audit(x, x.T @ y, y, suppressed).disclosed(suppressed)
    cells = tables[0].cells + tables[1].cells
    assert sorted({cells[i]["region"] for i in np.flatnonzero(disclosed)}) == (
        ["K"] if unsafe else []
    )
    ours = solve(Problem(x, z=x.T @ y, y=y, primary=primary))
    assert not audit(x, x.T @ y, y, ours.suppressed).disclosed(ours.suppressed).any()
    if mode == "super-consistent":  # global = super-consistent on this example
        assert (ours.suppressed == suppressed).all()
