"""The catalogue as DCAT-AP-NO: one ``dcat:Catalog`` with a ``dcat:Dataset`` per data source
(restricted access, legal basis, production date) and per published table (public, with a
``dcat:Distribution`` per format of the API). Written as JSON-LD and as Turtle from the same
nodes, so the two say the same thing.

>>> from helsestat.reference.catalog import packaged_data_sources
>>> ttl = to_turtle(packaged_data_sources(), "https://stat.example")
>>> "<https://stat.example/api/catalog/datasets/KUHR> a dcat:Dataset" in ttl
True
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from helsestat.reference.catalog import Catalog, DataSource, PublishedTable

PREFIXES = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "dcatno": "https://data.norge.no/vocabulary/dcatno#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
ACCESS = "http://publications.europa.eu/resource/authority/access-right/"
THEME = "http://publications.europa.eu/resource/authority/data-theme/"
FORMATS = {
    "json": "application/json",
    "csv": "text/csv",
    "xml": "application/xml",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonstat": "application/json",
    "parquet": "application/vnd.apache.parquet",
}

Node = dict[str, Any]


def _lit(text: str, lang: str = "nb") -> Node:
    return {"@value": text, "@language": lang}


def _iri(iri: str) -> Node:
    return {"@id": iri}


def _source_node(s: DataSource, base: str) -> Node:
    node: Node = {
        "@id": f"{base}/api/catalog/datasets/{quote(s.identifier)}",
        "@type": "dcat:Dataset",
        "dct:identifier": s.identifier,
        "dct:title": _lit(s.title),
        "dct:alternative": _lit(s.full_title),
        "dct:description": _lit(s.description),
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": s.owner},
        "dct:accessRights": _iri(ACCESS + "RESTRICTED"),
        "dcatno:accessRightsComment": _lit(s.access),
        "dcatno:legalBasisForProcessing": {
            "@type": "dct:RuleOrRegulation",
            "dct:title": _lit(s.legal_basis),
        },
        "dcat:theme": _iri(THEME + s.theme),
    }
    if s.production_date:
        node["dct:issued"] = {"@value": s.production_date.isoformat(), "@type": "xsd:date"}
    return node


def _table_node(t: PublishedTable, base: str) -> Node:
    url = f"{base}/api/v1/tables/{t.identifier}"
    node: Node = {
        "@id": url,
        "@type": "dcat:Dataset",
        "dct:identifier": t.identifier,
        "dct:title": _lit(t.title),
        "dct:description": _lit(t.description),
        "dct:accessRights": _iri(ACCESS + "PUBLIC"),
        "dcat:keyword": [_lit(t.statistic)],
        "dcat:landingPage": _iri(f"{base}/dashboard/tables/{t.identifier}"),
        "dcat:distribution": [
            {
                "@type": "dcat:Distribution",
                "dct:title": _lit(f"{t.title} ({fmt})"),
                "dcat:accessURL": _iri(f"{url}?format={fmt}"),
                "dcat:mediaType": _iri(f"https://www.iana.org/assignments/media-types/{media}"),
            }
            for fmt, media in FORMATS.items()
        ],
    }
    if t.sources:
        node["dct:source"] = [
            _iri(f"{base}/api/catalog/datasets/{quote(source)}") for source in t.sources
        ]
    if t.rules_note:
        node["dct:conformsTo"] = {"@type": "dct:Standard", "dct:title": _lit(t.rules_note)}
    return node


def to_jsonld(catalog: Catalog, base: str) -> dict[str, Any]:
    """The catalogue as a JSON-LD document (DCAT-AP-NO)."""
    datasets = [_source_node(s, base) for s in catalog.data_sources] + [
        _table_node(t, base) for t in catalog.tables
    ]
    root: Node = {
        "@id": f"{base}/api/catalog",
        "@type": "dcat:Catalog",
        "dct:title": _lit("helsestat: datakilder og publiserte tabeller"),
        "dct:description": _lit(
            "Helseregistrene statistikken bygger på, og tabellene helsestat publiserer."
        ),
        "dct:publisher": {"@type": "foaf:Agent", "foaf:name": catalog.publisher},
        "dcat:contactPoint": {
            "@type": "vcard:Organization",
            "vcard:hasEmail": _iri(f"mailto:{catalog.contact}"),
        },
        "dcat:dataset": datasets,
    }
    return {"@context": PREFIXES, "@graph": [root]}


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")


def _term(value: Any, indent: str) -> str:
    if isinstance(value, str):
        return f'"{_escape(value)}"'
    if "@value" in value:
        text = f'"{_escape(value["@value"])}"'
        if "@language" in value:
            return f"{text}@{value['@language']}"
        return f"{text}^^{value['@type']}" if "@type" in value else text
    if set(value) == {"@id"}:
        return f"<{value['@id']}>"
    if "@id" in value:  # a named node written on its own: refer to it
        return f"<{value['@id']}>"
    inner = _predicates(value, indent + "    ")
    return f"[\n{inner}\n{indent}]"


def _predicates(node: Node, indent: str) -> str:
    lines = []
    if "@type" in node:
        lines.append(f"{indent}a {node['@type']}")
    for key, value in node.items():
        if key.startswith("@"):
            continue
        values = value if isinstance(value, list) else [value]
        lines.append(f"{indent}{key} " + ", ".join(_term(v, indent) for v in values))
    return " ;\n".join(lines)


def to_turtle(catalog: Catalog, base: str) -> str:
    """The catalogue as Turtle (DCAT-AP-NO), the same graph as :func:`to_jsonld`."""
    doc = to_jsonld(catalog, base)
    out = [f"@prefix {p}: <{iri}> ." for p, iri in PREFIXES.items()]
    out.append("")
    (root,) = doc["@graph"]
    nodes = [root, *root["dcat:dataset"]]
    for node in nodes:
        body = {k: v for k, v in node.items() if k not in ("@id",)}
        text = _predicates(body, "    ")
        out.append(f"<{node['@id']}> {text.lstrip()} .\n")
    return "\n".join(out)


__all__ = ["to_jsonld", "to_turtle"]
