"""The validate stage: declarative specs per extract kind and pseudonymisation.

>>> sorted(EXTRACT_SPECS)
['claims', 'folkemengde', 'npr_episode', 'sob']
"""

from helsestat.errors import NotFoundError
from helsestat.validate.claims import CLAIMS
from helsestat.validate.folkemengde import FOLKEMENGDE
from helsestat.validate.npr import NPR_EPISODE
from helsestat.validate.sob import SOB
from helsestat.validate.spec import Column, ExtractSpec, validate

EXTRACT_SPECS: dict[str, ExtractSpec] = {
    spec.kind: spec for spec in (CLAIMS, SOB, FOLKEMENGDE, NPR_EPISODE)
}


def spec_for(kind: str) -> ExtractSpec:
    """The spec of an extract kind, or an error listing the known kinds."""
    try:
        return EXTRACT_SPECS[kind]
    except KeyError:
        raise NotFoundError(
            "ingest.unknown_kind",
            f"unknown extract kind {kind!r}",
            hint=f"known kinds: {', '.join(sorted(EXTRACT_SPECS))}",
        ) from None


__all__ = ["EXTRACT_SPECS", "Column", "ExtractSpec", "spec_for", "validate"]
