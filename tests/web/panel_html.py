"""Read a dashboard page of panels back from its HTML (the standard library's parser): the
tabs, the form's fields, the alerts, and per panel its chart, rows, breadcrumb, legend and
downloads."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any


@dataclass
class Cell:
    text: str = ""
    classes: tuple[str, ...] = ()
    title: str = ""
    href: str = ""
    link: str = ""  # the text of the cell's link


@dataclass
class PanelHtml:
    id: str
    title: str = ""
    figure: dict[str, Any] | None = None
    header: list[str] = field(default_factory=list)
    rows: list[list[Cell]] = field(default_factory=list)
    row_classes: list[str] = field(default_factory=list)
    crumbs: list[tuple[str, str]] = field(default_factory=list)  # text, href ("": current)
    legend: list[str] = field(default_factory=list)
    downloads: dict[str, str] = field(default_factory=dict)  # format → href

    def column(self, label: str) -> list[Cell]:
        at = self.header.index(label)
        return [row[at] for row in self.rows]


@dataclass
class FieldHtml:
    name: str
    kind: str
    value: str = ""
    low: str = ""
    high: str = ""
    disabled: bool = False
    options: list[tuple[str, str]] = field(default_factory=list)  # value, text (not "all")


@dataclass
class PageHtml:
    lang: str = ""
    tabs: list[tuple[str, str, bool]] = field(default_factory=list)  # text, href, active
    fields: dict[str, FieldHtml] = field(default_factory=dict)
    panels: dict[str, PanelHtml] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)


def _squeeze(text: str) -> str:
    """The text with its runs of HTML whitespace as one space (str.split would also take the
    narrow no-break spaces that group a number's thousands)."""
    return re.sub(r"[ \t\n\r\f]+", " ", text).strip()


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = PageHtml()
        self.panel: PanelHtml | None = None
        self.capture: tuple[str, str, dict[str, str]] | None = None  # what, tag, attributes
        self.parts: list[str] = []
        self.link_parts: list[str] | None = None
        self.row: list[Cell] | None = None
        self.cell: Cell | None = None
        self.select: FieldHtml | None = None
        self.list_kind = ""  # "crumbs" or "legend" while inside one

    def _capture(self, what: str, tag: str, attrs: dict[str, str]) -> None:
        self.capture, self.parts = (what, tag, attrs), []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = a.get("class", "").split()
        if tag == "html":
            self.page.lang = a.get("lang", "")
        elif tag == "section" and "panel" in classes:
            self.panel = self.page.panels.setdefault(a["id"], PanelHtml(a["id"]))
        elif tag == "a" and "tab" in classes:
            self._capture("tab", tag, a)
        elif tag == "p" and a.get("role") == "alert":
            self._capture("alert", tag, a)
        elif tag == "input" and a.get("type") == "month":
            self.page.fields[a["name"]] = FieldHtml(
                a["name"], "month", a.get("value", ""), a.get("min", ""), a.get("max", "")
            )
        elif tag == "select":
            self.select = FieldHtml(a["name"], "select", disabled="disabled" in a)
            self.page.fields[a["name"]] = self.select
        elif tag == "option" and self.select is not None:
            self._capture("option", tag, a)
        elif self.panel is not None:
            self._panel_start(tag, a, classes)

    def _panel_start(self, tag: str, a: dict[str, str], classes: list[str]) -> None:
        if tag == "h2":
            self._capture("title", tag, a)
        elif tag == "script" and a.get("type") == "application/json":
            self._capture("figure", tag, a)
        elif tag == "th":
            self._capture("th", tag, a)
        elif tag == "tr" and self.capture is None:
            self.row = []
            self.row_class = a.get("class", "")
        elif tag == "td" and self.row is not None:
            self.cell = Cell(classes=tuple(classes), title=a.get("title", ""))
            self._capture("td", tag, a)
        elif tag == "a" and self.cell is not None:
            self.cell.href = a["href"]
            self.link_parts = []
        elif tag == "a" and "download" in classes:
            self._capture("download", tag, a)
        elif tag == "nav" and "drill-crumbs" in classes:
            self.list_kind = "crumbs"
        elif tag == "ul" and "legend" in classes:
            self.list_kind = "legend"
        elif tag == "li" and self.list_kind:
            self._capture(self.list_kind, tag, {"href": ""})
        elif tag == "a" and self.capture is not None and self.capture[0] == "crumbs":
            self.capture[2]["href"] = a["href"]

    def handle_data(self, data: str) -> None:
        if self.capture is not None:
            self.parts.append(data)
        if self.link_parts is not None:
            self.link_parts.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.link_parts is not None and self.cell is not None:
            self.cell.link = _squeeze("".join(self.link_parts))
            self.link_parts = None
        if tag in ("nav", "ul"):
            self.list_kind = ""
        if tag == "select":
            self.select = None
        if tag == "section":
            self.panel = None
        if tag == "tr" and self.row is not None and self.panel is not None:
            if self.row:  # not the header's
                self.panel.rows.append(self.row)
                self.panel.row_classes.append(self.row_class)
            self.row = None
        if self.capture is None or tag != self.capture[1]:
            return
        what, _, attrs = self.capture
        raw = "".join(self.parts)
        text = _squeeze(raw)
        self.capture = None
        panel = self.panel
        if what == "tab":
            self.page.tabs.append((text, attrs["href"], "active" in attrs.get("class", "")))
        elif what == "alert":
            self.page.alerts.append(text)
        elif what == "option" and self.select is not None:
            if attrs.get("value"):
                self.select.options.append((attrs["value"], text))
            if "selected" in attrs:
                self.select.value = attrs.get("value", "")
        elif panel is None:
            return
        elif what == "title":
            panel.title = text
        elif what == "figure":
            panel.figure = json.loads(raw)
        elif what == "th":
            panel.header.append(text)
        elif what == "td" and self.cell is not None and self.row is not None:
            self.cell.text = text
            self.row.append(self.cell)
            self.cell = None
        elif what == "download":
            panel.downloads[text] = attrs["href"]
        elif what == "crumbs":
            panel.crumbs.append((text, attrs["href"]))
        elif what == "legend":
            panel.legend.append(text.lstrip("·").strip())


def read_page(html: str) -> PageHtml:
    """The page's tabs, fields, alerts and panels."""
    reader = _Reader()
    reader.feed(html)
    return reader.page
