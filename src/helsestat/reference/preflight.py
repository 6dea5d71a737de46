"""Preflight for a statistics year: every code list and correspondence a production run
depends on must be valid for the whole year before the run starts (seed 000: "Før noen av
produksjonsløpene kan kjøres må alle kodelistene … være oppdatert for statistikkåret").

:class:`Needs` names what a production run uses (each statistic declares its own, see
:mod:`helsestat.statistics.preflight`). A classification passes when its versions cover
1 January to 31 December; a correspondence when tables between versions of the two
classifications cover the year and map every code of each source version valid in it (a
code without a target is named); a tariff list when its rows' validity covers it. Everything
is checked against the :class:`~helsestat.reference.snapshot.Reference` passed in: the
reference database's content (``helsestat preflight`` reads it fresh).

>>> from helsestat.reference.seed import packaged_reference
>>> report = check_runs(2014, {"x": Needs(classifications=(131, 630))}, packaged_reference())
>>> [c.subject for c in report.failures][-1]
'KLASS 630 Kodeliste for opptaksområder i spesialisthelsetjenesten (psykisk helsevern)'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from helsestat.errors import NotFoundError, ReferenceError_
from helsestat.reference.classifications import Registry, span_text
from helsestat.reference.snapshot import Reference
from helsestat.reference.tariffs import TariffLists


@dataclass(frozen=True)
class Needs:
    """What one production run depends on."""

    classifications: tuple[int, ...] = ()
    correspondences: tuple[tuple[int, int], ...] = ()
    tariff_lists: tuple[str, ...] = ()
    #: (source, target, other): a code of the source with no pair to the target is covered
    #: when it has one to ``other`` (a catchment area made of bydeler, not kommuner).
    covered_together: tuple[tuple[int, int, int], ...] = ()


@dataclass(frozen=True)
class Check:
    """One code list or correspondence checked for the year."""

    run: str
    kind: str  # classification, correspondence, tariff list, declaration
    subject: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class PreflightReport:
    """Every check of a year; ``ok`` when none failed."""

    year: int
    checks: tuple[Check, ...]

    @property
    def failures(self) -> list[Check]:
        """The checks that failed."""
        return [c for c in self.checks if not c.ok]

    @property
    def ok(self) -> bool:
        """True when every code list and correspondence is valid for the year."""
        return not self.failures

    def raise_for_failures(self) -> None:
        """``ReferenceError_`` naming every failed check (the CLI shows it as the error)."""
        if self.ok:
            return
        lines = "; ".join(f"{c.subject}: {c.detail}" for c in self.failures)
        raise ReferenceError_(
            "reference.preflight_failed",
            f"preflight {self.year}: {len(self.failures)} of {len(self.checks)} code lists "
            f"and correspondences are not valid for the year: {lines}",
            hint="load versions that cover the year (helsestat reference load), or update "
            "the code lists in KLASS before the production run",
        )


def _year(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year + 1, 1, 1)


def _gaps(spans: list[tuple[date, date | None]], start: date, end: date) -> list[str]:
    """The parts of ``[start, end)`` no span covers, as text (ends exclusive)."""
    gaps, at = [], start
    for lo, hi in sorted(spans, key=lambda s: s[0]):
        if at >= end:
            break
        if lo > at:
            gaps.append(f"from {at} until {min(lo, end)}")
        at = end if hi is None else max(at, hi)
    if at < end:
        gaps.append(f"from {at} until {end}")
    return gaps


def _classification(reg: Registry, run: str, cid: int, year: int) -> Check:
    start, end = _year(year)
    cls = reg.classifications.get(cid)
    if cls is None:
        return Check(run, "classification", f"KLASS {cid}", False, "not in the registry")
    subject = f"KLASS {cid} {cls.name}"
    spans = [(v.valid_from, v.valid_to) for v in cls.versions if v.overlaps(start, end)]
    if not spans:
        have = "; ".join(span_text(v.valid_from, v.valid_to) for v in cls.versions) or "none"
        return Check(
            run, "classification", subject, False, f"no version valid in {year} (versions: {have})"
        )
    gaps = _gaps(spans, start, end)
    if gaps:
        return Check(run, "classification", subject, False, f"no version valid {', '.join(gaps)}")
    names = ", ".join(v.name for v in cls.versions if v.overlaps(start, end))
    flag = " (SYNTHETIC stand-in)" if cls.synthetic else ""
    return Check(run, "classification", subject, True, f"valid: {names}{flag}")


def _mapped(reg: Registry, src: int, dst: int, version: int, start: date, end: date) -> set[str]:
    """The codes of source version ``version`` that a table to a version of ``dst`` valid in
    ``[start, end)`` maps (tables stored the other way round count too)."""
    codes: set[str] = set()
    for table, sv, tv, inverted in reg.tables_between(src, dst):
        if sv.id == version and tv.overlaps(start, end):
            codes |= {m.target_code if inverted else m.source_code for m in table.maps}
    return codes


def _uncovered(reg: Registry, src: int, dst: int, year: int, others: tuple[int, ...]) -> list[str]:
    """For each version of ``src`` valid in ``year``: the codes no table to ``dst`` (or to one
    of ``others``) maps, as text; empty when every code has a target."""
    start, end = _year(year)
    problems = []
    for v in reg.classification(src).versions:
        if not v.overlaps(start, end):
            continue
        mapped = _mapped(reg, src, dst, v.id, start, end)
        for other in others:
            mapped |= _mapped(reg, src, other, v.id, start, end)
        missing = sorted({c.code for c in v.codes} - mapped)
        if missing:
            shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
            problems.append(
                f"{len(missing)} of {len(v.codes)} codes of version {v.id} ({v.name}) have no "
                f"target in KLASS {dst}: {shown}"
            )
    return problems


def _correspondence(
    reg: Registry, run: str, src: int, dst: int, year: int, others: tuple[int, ...] = ()
) -> Check:
    start, end = _year(year)
    subject = f"correspondence KLASS {src} → {dst}"
    try:
        items = reg.corresponds(src, dst, start, end)
    except (NotFoundError, ReferenceError_) as exc:
        return Check(run, "correspondence", subject, False, exc.message)
    problems = _uncovered(reg, src, dst, year, others)
    if problems:
        return Check(run, "correspondence", subject, False, "; ".join(problems))
    ids = sorted(
        {
            t.id
            for t, sv, tv, _ in reg.tables_between(src, dst)
            if sv.overlaps(start, end) and tv.overlaps(start, end)
        }
    )
    via = f" (with KLASS {', '.join(map(str, others))})" if others else ""
    return Check(
        run,
        "correspondence",
        subject,
        True,
        f"tables {', '.join(map(str, ids))}: {len(items)} pairs, every source code mapped{via}",
    )


def _tariff(lists: TariffLists, run: str, name: str, year: int) -> Check:
    start, end = _year(year)
    gaps = _gaps(lists.valid_spans(name), start, end)
    subject = f"tariff list {name}"
    if gaps:
        return Check(run, "tariff list", subject, False, f"no rows valid {', '.join(gaps)}")
    return Check(run, "tariff list", subject, True, "rows valid all year (SYNTHETIC amounts)")


def check_runs(
    year: int, runs: Mapping[str, Needs | None], reference: Reference
) -> PreflightReport:
    """Check what each production run in ``runs`` depends on for ``year`` (a run that
    declares nothing is reported as such) against ``reference``. The runs of helsestat's
    statistics are in :func:`helsestat.statistics.preflight.preflight`.

    >>> from helsestat.reference.seed import packaged_reference
    >>> report = check_runs(2025, {"demo": Needs(classifications=(131,))}, packaged_reference())
    >>> [(c.subject, c.ok) for c in report.checks]
    [('KLASS 131 Standard for kommuneinndeling', True)]
    """
    reg, lists = reference.registry, reference.tariffs
    checks: list[Check] = []
    for run, needs in runs.items():
        if needs is None:
            checks.append(
                Check(run, "declaration", run, True, "declares no code lists (add its needs)")
            )
            continue
        checks += [_classification(reg, run, c, year) for c in needs.classifications]
        checks += [
            _correspondence(
                reg,
                run,
                s,
                d,
                year,
                tuple(o for s2, d2, o in needs.covered_together if (s2, d2) == (s, d)),
            )
            for s, d in needs.correspondences
        ]
        checks += [_tariff(lists, run, t, year) for t in needs.tariff_lists]
    return PreflightReport(year, tuple(checks))


__all__ = ["Check", "Needs", "PreflightReport", "check_runs"]
