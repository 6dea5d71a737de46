"""``/api/klass/v1``: a read API with the paths, parameters and JSON shapes of SSB's KLASS API
v1, so that SSB's own client (``ssb-klass-python``) reads helsestat's classifications once
its base URL points here.

Paths: ``classifications``, ``classifications/search``, ``classifications/{id}``,
``…/{id}/codes`` (``from``, ``to``), ``…/codesAt`` (``date``), ``…/corresponds`` and
``…/correspondsAt`` (``targetClassificationId``), ``…/changes``, ``versions/{id}``,
``correspondencetables/{id}``, ``ssbsections``. Code lists take ``selectCodes`` (lists,
``*`` and ranges), ``selectLevel``, ``presentationNamePattern``, ``csvSeparator`` and
``csvFields``. The format follows ``Accept``: JSON (also for ``*/*``, where KLASS answers
XML), ``text/csv`` (ISO 8859-1 unless ``charset=UTF-8``, as KLASS) or XML. Every route reads
the registry of the reference database's current snapshot (``ReferenceDep``); dates are
parsed here, at the edge.

>>> # curl -H 'Accept: application/json' \\
>>> #   'localhost:8000/api/klass/v1/classifications/131/codesAt?date=2025-01-01'
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from helsestat.api.deps import ReferenceDep
from helsestat.api.problems import PROBLEM_RESPONSES
from helsestat.errors import NotFoundError, QueryError
from helsestat.publish.documents import (
    MEDIA_TYPES,
    document_format,
    render_document,
    render_records,
)
from helsestat.reference.klass_json import (
    change_json,
    classification_document,
    classification_summary,
    code_item_json,
    correspondence_document,
    correspondence_item_json,
    version_document,
)
from helsestat.reference.snapshot import Reference

PREFIX = "/api/klass/v1"
router = APIRouter(prefix=PREFIX, tags=["klass"], responses=PROBLEM_RESPONSES)

CODE_FIELDS = (
    "code",
    "parentCode",
    "level",
    "name",
    "shortName",
    "presentationName",
    "validFrom",
    "validTo",
    "notes",
)
RANGE_FIELDS = (*CODE_FIELDS, "validFromInRequestedRange", "validToInRequestedRange")
CORR_FIELDS = (
    "sourceCode",
    "sourceName",
    "sourceShortName",
    "targetCode",
    "targetName",
    "targetShortName",
    "validFrom",
    "validTo",
)
CHANGE_FIELDS = (
    "oldCode",
    "oldName",
    "oldShortName",
    "newCode",
    "newName",
    "newShortName",
    "changeOccurred",
)

Language = Annotated[str, Query(pattern="^(nb|nn|en)$", description="nb, nn or en (served: nb)")]
Future = Annotated[bool, Query(alias="includeFuture", description="Include future versions")]
Separator = Annotated[str, Query(alias="csvSeparator", description="CSV separator, default ,")]
Fields = Annotated[str | None, Query(alias="csvFields", description="CSV columns, in order")]
Select = Annotated[
    str | None, Query(alias="selectCodes", description="Codes, prefixes (11*) and ranges")
]
LevelParam = Annotated[int | None, Query(alias="selectLevel", ge=1, description="Only this level")]
Pattern = Annotated[
    str | None,
    Query(alias="presentationNamePattern", description="e.g. {code} - {name}"),
]
Target = Annotated[
    int | None, Query(alias="targetClassificationId", description="Required: the target")
]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + PREFIX


def _day(raw: str | None, name: str) -> date:
    if raw is None:
        raise QueryError(
            "query.missing_parameter",
            f"parameter {name!r} is required",
            hint=f"add ?{name}=YYYY-MM-DD",
        )
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise QueryError(
            "query.invalid_date",
            f"parameter {name!r} is not a date",
            hint="write dates as YYYY-MM-DD",
        ) from None


def _id(raw: str, what: str) -> int:
    # ASCII digits only ('²'.isdigit() is true, and int() refuses it: a 500), and few
    # enough that no id reaches the database as a number it cannot hold
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9):
        raise NotFoundError(
            f"{what}.not_found",
            f"no {what.replace('_', ' ')} with id {raw[:40]!r}",
            hint="ids are whole numbers; GET /api/klass/v1/classifications lists them",
        )
    return int(raw)


def pick_fields(default: Sequence[str], csv_fields: str | None) -> list[str]:
    """KLASS ``csvFields``: a subset of the columns, in the order given; unknown names are a
    400 naming them.

    >>> pick_fields(["code", "name", "level"], "name,code")
    ['name', 'code']
    """
    if not csv_fields:
        return list(default)
    wanted = [f.strip() for f in csv_fields.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in default]
    if unknown:
        raise QueryError(
            "query.invalid_csv_fields",
            f"csvFields: unknown field(s) {', '.join(unknown)}",
            hint=f"fields (case-sensitive): {', '.join(default)}",
        )
    return wanted


def _answer(
    request: Request,
    document: dict[str, Any],
    *,
    root: str,
    rows_key: str | None = None,
    fields: tuple[str, ...] = (),
    separator: str = ",",
    csv_fields: str | None = None,
) -> Response:
    offered = ("json", "xml", "csv") if rows_key else ("json", "xml")
    fmt, charset = document_format(request.headers.get("accept"), offered)
    if fmt == "csv" and rows_key:
        body = render_records(
            document[rows_key], pick_fields(fields, csv_fields), separator, charset
        )
        return Response(body, media_type=f"{MEDIA_TYPES['csv']}; charset={charset.upper()}")
    return Response(render_document(document, fmt, root=root), media_type=MEDIA_TYPES[fmt])


@router.get("/classifications", name="klass_classifications")
def classifications(
    request: Request,
    reference: ReferenceDep,
    include_codelists: Annotated[bool, Query(alias="includeCodelists")] = False,
    changed_since: Annotated[str | None, Query(alias="changedSince")] = None,
    page: Annotated[int, Query(ge=0, le=1_000_000)] = 0,  # a page number JSON can hold
    size: Annotated[int, Query(ge=1, le=1000)] = 20,
    language: Language = "nb",
) -> Response:
    """Every classification (code lists too with ``includeCodelists=true``), paged."""
    reg = reference.registry
    found = [
        c
        for c in sorted(reg.classifications.values(), key=lambda c: c.id)
        if (include_codelists or c.classification_type == "Klassifikasjon")
        and (changed_since is None or c.last_modified[:10] >= changed_since[:10])
    ]
    return _answer(request, _paged(request, found, page, size, "classifications"), root="page")


def _paged(request: Request, found: list[Any], page: int, size: int, key: str) -> dict[str, Any]:
    base = _base(request)
    chunk = found[page * size : (page + 1) * size]
    items = [classification_summary(c, base) for c in chunk] if key == "classifications" else chunk
    doc: dict[str, Any] = {}
    if items:
        doc["_embedded"] = {key: items}
    doc["_links"] = {
        "self": {"href": str(request.url)},
        "search": {
            "href": f"{base}/classifications/search{{?query,includeCodelists,ssbSection}}",
            "templated": True,
        },
    }
    doc["page"] = {
        "size": size,
        "totalElements": len(found),
        "totalPages": -(-len(found) // size),
        "number": page,
    }
    return doc


@router.get("/classifications/search", name="klass_search")
def search(
    request: Request,
    reference: ReferenceDep,
    query: Annotated[str, Query(min_length=1, description="Words to look for")],
    include_codelists: Annotated[bool, Query(alias="includeCodelists")] = False,
    ssb_section: Annotated[str | None, Query(alias="ssbSection")] = None,
    page: Annotated[int, Query(ge=0, le=1_000_000)] = 0,  # a page number JSON can hold
    size: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> Response:
    """Classifications whose name or description contains the query's words."""
    reg = reference.registry
    words = [w.lower() for w in query.split() if w.strip()]
    base = _base(request)
    hits: list[dict[str, Any]] = []
    scores: list[float] = []
    for c in sorted(reg.classifications.values(), key=lambda c: c.id):
        if not include_codelists and c.classification_type != "Klassifikasjon":
            continue
        if ssb_section and c.owning_section != ssb_section:
            continue
        text = f"{c.name} {c.description}".lower()
        score = sum(text.count(w) for w in words)
        if words and score == 0:
            continue
        scores.append(float(score))
        hits.append(
            {
                "name": c.name,
                "snippet": c.description[:200],
                "searchScore": float(score),
                "_links": {"self": {"href": f"{base}/classifications/{c.id}"}},
            }
        )
    hits = [h for _, h in sorted(zip(scores, hits, strict=True), key=lambda sh: -sh[0])]
    return _answer(request, _paged(request, hits, page, size, "searchResults"), root="page")


@router.get("/ssbsections", name="klass_sections")
def ssb_sections(request: Request, reference: ReferenceDep) -> Response:
    """The sections (owners) of at least one classification."""
    names = sorted({c.owning_section for c in reference.registry.classifications.values()})
    doc = {
        "_embedded": {"ssbSections": [{"name": n} for n in names]},
        "_links": {"self": {"href": str(request.url)}},
    }
    return _answer(request, doc, root="ssbSections")


@router.get("/classifications/{classification_id:path}/codes", name="klass_codes")
def codes(
    request: Request,
    reference: ReferenceDep,
    classification_id: str,
    from_: Annotated[str | None, Query(alias="from", description="Required: first day")] = None,
    to: Annotated[str | None, Query(description="Day after the last, YYYY-MM-DD")] = None,
    select_codes: Select = None,
    select_level: LevelParam = None,
    pattern: Pattern = None,
    separator: Separator = ",",
    csv_fields: Fields = None,
    language: Language = "nb",
    include_future: Future = False,
) -> Response:
    """The codes valid in ``[from, to)``, each with its validity and the part in range."""
    items = reference.registry.codes(
        _id(classification_id, "classification"),
        _day(from_, "from"),
        _day(to, "to") if to else None,
        select_codes=select_codes,
        select_level=select_level,
        pattern=pattern,
        today=date.today(),
        include_future=include_future,
    )
    doc = {"codes": [code_item_json(i, in_range=True) for i in items]}
    return _answer(
        request,
        doc,
        root="codeList",
        rows_key="codes",
        fields=RANGE_FIELDS,
        separator=separator,
        csv_fields=csv_fields,
    )


@router.get("/classifications/{classification_id:path}/codesAt", name="klass_codes_at")
def codes_at(
    request: Request,
    reference: ReferenceDep,
    classification_id: str,
    day: Annotated[str | None, Query(alias="date", description="Required: YYYY-MM-DD")] = None,
    select_codes: Select = None,
    select_level: LevelParam = None,
    pattern: Pattern = None,
    separator: Separator = ",",
    csv_fields: Fields = None,
    language: Language = "nb",
    include_future: Future = False,
) -> Response:
    """The codes valid on ``date``."""
    items = reference.registry.codes_at(
        _id(classification_id, "classification"),
        _day(day, "date"),
        select_codes=select_codes,
        select_level=select_level,
        pattern=pattern,
    )
    doc = {"codes": [code_item_json(i, in_range=False) for i in items]}
    return _answer(
        request,
        doc,
        root="codeList",
        rows_key="codes",
        fields=CODE_FIELDS,
        separator=separator,
        csv_fields=csv_fields,
    )


def _target(target: int | None) -> int:
    if target is None:
        raise QueryError(
            "query.missing_parameter",
            "parameter 'targetClassificationId' is required",
            hint="add ?targetClassificationId=131 (the classification to map to)",
        )
    return target


def _corresponds(
    request: Request,
    reference: Reference,
    source: str,
    target: int | None,
    start: date,
    end: date | None,
    separator: str,
    csv_fields: str | None,
) -> Response:
    items = reference.registry.corresponds(
        _id(source, "classification"), _target(target), start, end
    )
    doc = {"correspondenceItems": [correspondence_item_json(i) for i in items]}
    return _answer(
        request,
        doc,
        root="correspondenceItemList",
        rows_key="correspondenceItems",
        fields=CORR_FIELDS,
        separator=separator,
        csv_fields=csv_fields,
    )


@router.get("/classifications/{classification_id:path}/corresponds", name="klass_corresponds")
def corresponds(
    request: Request,
    reference: ReferenceDep,
    classification_id: str,
    target: Target = None,
    from_: Annotated[str | None, Query(alias="from", description="Required: first day")] = None,
    to: Annotated[str | None, Query(description="Day after the last, YYYY-MM-DD")] = None,
    separator: Separator = ",",
    csv_fields: Fields = None,
    language: Language = "nb",
    include_future: Future = False,
) -> Response:
    """The pairs from this classification to the target valid in ``[from, to)``; 404 when
    a correspondence table is missing for part of the range (as KLASS)."""
    reference.registry.classification(_id(classification_id, "classification"))
    start, end = _day(from_, "from"), _day(to, "to") if to else None
    return _corresponds(
        request, reference, classification_id, target, start, end, separator, csv_fields
    )


@router.get("/classifications/{classification_id:path}/correspondsAt", name="klass_corresponds_at")
def corresponds_at(
    request: Request,
    reference: ReferenceDep,
    classification_id: str,
    target: Target = None,
    day: Annotated[str | None, Query(alias="date", description="Required: YYYY-MM-DD")] = None,
    separator: Separator = ",",
    csv_fields: Fields = None,
    language: Language = "nb",
    include_future: Future = False,
) -> Response:
    """The pairs from this classification to the target valid on ``date``."""
    reference.registry.classification(_id(classification_id, "classification"))
    start = _day(day, "date")
    end = date.fromordinal(start.toordinal() + 1)
    return _corresponds(
        request, reference, classification_id, target, start, end, separator, csv_fields
    )


@router.get("/classifications/{classification_id:path}/changes", name="klass_changes")
def changes(
    request: Request,
    reference: ReferenceDep,
    classification_id: str,
    from_: Annotated[str | None, Query(alias="from", description="Required: first day")] = None,
    to: Annotated[str | None, Query(description="Day after the last, YYYY-MM-DD")] = None,
    separator: Separator = ",",
    csv_fields: Fields = None,
    language: Language = "nb",
    include_future: Future = False,
) -> Response:
    """Codes changed, started (no old code) or ended (no new code) in ``[from, to)``."""
    found = reference.registry.changes(
        _id(classification_id, "classification"),
        _day(from_, "from"),
        _day(to, "to") if to else None,
    )
    doc = {"codeChanges": [change_json(c) for c in found]}
    return _answer(
        request,
        doc,
        root="codeChangeList",
        rows_key="codeChanges",
        fields=CHANGE_FIELDS,
        separator=separator,
        csv_fields=csv_fields,
    )


@router.get("/classifications/{classification_id:path}", name="klass_classification")
def classification(
    request: Request,
    reference: ReferenceDep,
    classification_id: str,
    language: Language = "nb",
    include_future: Future = False,
) -> Response:
    """A classification with its versions and the links to its codes."""
    reg = reference.registry
    cls = reg.classification(_id(classification_id, "classification"))
    versions = reg.visible_versions(cls, date.today(), include_future)
    doc = classification_document(reg, cls, _base(request), versions)
    return _answer(request, doc, root="classification")


@router.get("/versions/{version_id:path}", name="klass_version")
def version(
    request: Request,
    reference: ReferenceDep,
    version_id: str,
    language: Language = "nb",
    include_future: Future = False,
) -> Response:
    """A version: levels, codes and the correspondence tables from or to it."""
    reg = reference.registry
    _, v = reg.version(_id(version_id, "classification_version"))
    return _answer(request, version_document(reg, v, _base(request)), root="version")


@router.get("/correspondencetables/{correspondence_id:path}", name="klass_correspondence")
def correspondence_table(
    request: Request,
    reference: ReferenceDep,
    correspondence_id: str,
    language: Language = "nb",
) -> Response:
    """A correspondence table with all its pairs."""
    reg = reference.registry
    table = reg.correspondence(_id(correspondence_id, "correspondence"))
    doc = correspondence_document(reg, table, _base(request))
    return _answer(request, doc, root="correspondenceTable")
