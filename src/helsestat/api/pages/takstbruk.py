"""``/dashboard/takstbruk``: explore tariff use — pick a fagområde, a level (kommune, fylke,
hele landet), a period, kommuner or fylker and takster; see the rows, a time series of
``sum_antall_takst`` and download links in every format, which point at the Helfo-compatible
``/v1/takstbruk`` URLs of the same query.

The page asks :class:`~helsestat.api.takstbruk.service.TakstbrukService` — the same code as
the API — so what it shows is what the downloads hold. A bad choice (a reversed period, a
malformed month) is shown on the page with the API's message.

>>> TakstbrukForm.from_params({"niva": "fylke", "fylker": "03,15"}).fylker
('03', '15')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from helsestat.api.pages.render import TemplatesDep, render
from helsestat.api.pages.views import format_number
from helsestat.api.takstbruk.codes import code_lists
from helsestat.api.takstbruk.query import ENDPOINTS, PREFIX, Endpoint
from helsestat.api.takstbruk.render import header_names, helfo_rows
from helsestat.api.takstbruk.service import Answer, TakstbrukService
from helsestat.errors import InputError, NotFoundError
from helsestat.model import ReleaseInfo
from helsestat.publish.formats import FORMATS

router = APIRouter(include_in_schema=False)

#: Rows shown on the page; the downloads carry them all.
MAX_ROWS: Final = 500
MAX_SERIES: Final = 12
LEVELS: Final = {"kommune": "Kommune", "fylke": "Fylke", "landet": "Hele landet"}
PERIODS: Final = {"ar": "År (YYYY)", "maned": "Måned (YYYYMM, at most 13)"}
_DEFAULT_PERIOD: Final = {"ar": ("2015", "2019"), "maned": ("201805", "201905")}


def _many(params: Any, key: str) -> tuple[str, ...]:
    raw: Iterable[str] = (
        params.getlist(key) if hasattr(params, "getlist") else [params.get(key) or ""]
    )
    values = (v.strip() for item in raw for v in item.split(","))
    return tuple(dict.fromkeys(v for v in values if v))


@dataclass(frozen=True)
class TakstbrukForm:
    """The page's choices; ``submitted`` once the form was sent."""

    fagomraade: str = "LE"
    niva: str = "fylke"
    periode: str = "ar"
    fra: str = "2015"
    til: str = "2019"
    kommuner: tuple[str, ...] = ()
    fylker: tuple[str, ...] = ()
    takstkoder: tuple[str, ...] = ()
    praksistyper: tuple[str, ...] = ()
    submitted: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> TakstbrukForm:
        """The form as sent (unknown level or period values fall back to the defaults)."""
        niva = params.get("niva") or "fylke"
        periode = params.get("periode") or "ar"
        niva = niva if niva in LEVELS else "fylke"
        periode = periode if periode in PERIODS else "ar"
        fra, til = _DEFAULT_PERIOD[periode]
        return cls(
            fagomraade=(params.get("fagomraade") or "LE").strip(),
            niva=niva,
            periode=periode,
            fra=(params.get("fra") or fra).strip(),
            til=(params.get("til") or til).strip(),
            kommuner=_many(params, "kommuner"),
            fylker=_many(params, "fylker"),
            takstkoder=_many(params, "takstkoder"),
            praksistyper=_many(params, "praksistyper"),
            submitted="fagomraade" in params,
        )

    def endpoint(self, family: str = "agtakst") -> Endpoint:
        """The API route of the chosen level and period."""
        return ENDPOINTS[PREFIX + Endpoint(family, self.niva, self.periode).suffix]

    def api_items(self) -> list[tuple[str, str]]:
        """The Helfo query of these choices (lists comma-separated)."""
        fra, til = self.endpoint().period_parameters
        items = [("fagomraade", self.fagomraade), (fra, self.fra), (til, self.til)]
        geo = {"kommune": self.kommuner, "fylke": self.fylker}.get(self.niva, ())
        lists = (
            ("takstkoder", self.takstkoder),
            (self.endpoint().geo_parameter or "", geo),
            ("praksistyper", self.praksistyper),
        )
        items += [(key, ",".join(values)) for key, values in lists if key and values]
        return items


def downloads(request: Request, form: TakstbrukForm) -> list[tuple[str, str, str]]:
    """(format, media type, URL) of the query in every format, at the /v1 URLs."""
    root = str(request.scope.get("root_path", ""))
    query = urlencode(form.api_items(), safe=",")
    family = {"csv": "eksport", "xlsx": "msexcel"}
    out = []
    for name in sorted(FORMATS):
        path = root + form.endpoint(family.get(name, "agtakst")).path
        extra = "" if name in ("json", "csv", "xlsx") else f"&format={name}"
        out.append((name, FORMATS[name].media_type, f"{path}?{query}{extra}"))
    return out


def chart_figure(
    rows: list[tuple[Any, ...]], names: dict[str, str], monthly: bool
) -> dict[str, Any] | None:
    """Time series of ``sum_antall_takst`` summed over praksistyper: one line per
    geography and takstkode (the first :data:`MAX_SERIES`)."""
    series: dict[str, dict[str, int]] = {}
    for row in rows:
        ar, maned, takst, _, _, kommune, fylke, _, antall = row[:9]
        if antall is None:  # suppressed: a gap, never a zero
            continue
        geo = kommune or fylke
        where = f"{geo} {names.get(geo, '')}".strip() if geo else "Hele landet"
        label = f"{where} · {takst}"
        if label not in series and len(series) == MAX_SERIES:
            continue
        x = f"{ar}-{maned:02d}" if monthly else str(ar)
        points = series.setdefault(label, {})
        points[x] = points.get(x, 0) + antall
    if not series:
        return None
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": sorted(points),
            "y": [points[x] for x in sorted(points)],
            "name": label,
        }
        for label, points in series.items()
    ]
    return {
        "data": traces,
        "layout": {
            "title": {"text": "sum_antall_takst by " + ("month" if monthly else "year")},
            "xaxis": {"type": "category", "automargin": True},
            "yaxis": {"rangemode": "tozero", "tickformat": ",", "automargin": True},
            "separators": ".\u202f",
            "showlegend": True,
            "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
        },
    }


@dataclass(frozen=True)
class Result:
    """What the query returned, ready for the template."""

    columns: tuple[str, ...]
    rows: list[list[str]]
    total: int
    suppressed: int
    chart: dict[str, Any] | None


def _result(service: TakstbrukService, form: TakstbrukForm, names: dict[str, str]) -> Result:
    prepared = service.prepare(form.endpoint(), form.api_items(), "application/json", None)
    assert not isinstance(prepared, Answer)  # no If-None-Match was given
    selection = service.select(prepared, service.index(prepared))
    shown = helfo_rows(selection, MAX_ROWS)
    measures = set(header_names(selection)[7:12])
    columns = tuple(header_names(selection))
    table = [
        [
            format_number(v) if c in measures else ("" if v is None else str(v))
            for c, v in zip(columns, row, strict=True)
        ]
        for row in shown
    ]
    chart = chart_figure(helfo_rows(selection), names, form.periode == "maned")
    return Result(columns, table, len(selection), selection.suppressed, chart)


@router.get("/dashboard/takstbruk", name="dashboard_takstbruk", response_class=HTMLResponse)
def takstbruk_page(request: Request, templates: TemplatesDep) -> HTMLResponse:
    """The form, and once sent: the rows, the chart and the downloads."""
    form = TakstbrukForm.from_params(request.query_params)
    service: TakstbrukService = request.app.state.takstbruk
    codes = code_lists()
    release: ReleaseInfo | None = None
    result: Result | None = None
    error = ""
    try:
        release = service.current_release()
        if form.submitted:
            result = _result(service, form, {**codes.kommuner, **codes.fylker})
    except (InputError, NotFoundError) as exc:  # shown on the page, with the API's words
        error = str(exc)
    return render(
        templates,
        request,
        "takstbruk.html",
        release=release,
        form=form,
        codes=codes,
        levels=LEVELS,
        periods=PERIODS,
        result=result,
        error=error,
        downloads=downloads(request, form) if result is not None else [],
    )
