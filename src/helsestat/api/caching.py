"""HTTP caching of published data: strong ETags, ``Cache-Control`` and ``If-None-Match``.

A release is immutable, so a response is fully determined by the release id, the request
path, the (canonical) query and the format — plus the helsestat version, because a new
renderer may write the same data differently. The ETag is a hash of exactly those, so a
conditional request is answered with **304 without reading or rendering the table**.

``Cache-Control: public, max-age=300``: shared caches may keep a response five minutes.
Pinned releases (``?release=``) never change, but unpinned URLs follow the *current* release,
which a new build switches; five minutes bounds how long a cache serves the previous one,
and the ETag makes revalidation after that cheap.

>>> tag = etag_for("r1", "/api/v1/tables/t", {"kommune": ("0301",)}, "csv", version="0.1.0")
>>> tag.startswith('"') and tag.endswith('"')
True
>>> if_none_match_matches(f"W/{tag}, \\"other\\"", tag)
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

#: Five minutes: see the module docstring for why.
CACHE_CONTROL = "public, max-age=300"
RELEASE_HEADER = "X-Helsestat-Release"


def etag_for(
    release_id: str,
    path: str,
    query: Mapping[str, Sequence[str]],
    fmt: str,
    *,
    version: str,
    presorted: bool = False,
) -> str:
    """A strong, quoted ETag for one data response, computed without rendering it.

    The query is canonicalised (keys sorted, values sorted and de-duplicated), so
    ``?a=2,1`` and ``?a=1,2`` — which select the same rows — share a tag.

    ``presorted``: every value tuple is sorted and unique already (a checked query's are),
    so the tag is the same without sorting them again (every request pays for it).

    >>> etag_for("r1", "/p", {"b": ("2", "1")}, "json", version="1") == etag_for(
    ...     "r1", "/p", {"b": ("1", "2")}, "json", version="1", presorted=True)
    True
    """
    if presorted:
        canonical = "&".join(f"{key}={','.join(query[key])}" for key in sorted(query))
    else:
        canonical = "&".join(f"{key}={','.join(sorted(set(query[key])))}" for key in sorted(query))
    digest = hashlib.sha256(
        "\n".join((version, release_id, path, canonical, fmt)).encode("utf-8")
    ).hexdigest()
    return f'"{digest[:32]}"'


def if_none_match_matches(header: str | None, etag: str) -> bool:
    """True when an ``If-None-Match`` header matches ``etag`` (RFC 9110 §13.1.2: weak
    comparison, ``*`` matches any current representation).

    >>> if_none_match_matches('"a", "b"', '"b"')
    True
    >>> if_none_match_matches(None, '"b"')
    False
    """
    if not header:
        return False
    for candidate in header.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def cache_headers(etag: str, release_id: str, *, vary_accept: bool = False) -> dict[str, str]:
    """Headers every data response carries, on 200 and 304 alike.

    >>> sorted(cache_headers('"x"', "r1"))
    ['Cache-Control', 'ETag', 'X-Helsestat-Release']
    """
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if release_id:  # none before the first build
        headers[RELEASE_HEADER] = release_id
    if vary_accept:
        headers["Vary"] = "Accept"
    return headers
