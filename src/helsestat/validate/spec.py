"""Declarative extract specs and the generic ``validate`` stage.

An :class:`ExtractSpec` lists the columns of one extract kind and a ``check`` function that
parses the text columns into typed ones and returns one boolean mask per rule (True = the
row breaks the rule), checking codes against the reference snapshot it is given (the
reference database's code lists). ``validate`` applies them: rows breaking no rule are
accepted, the others go to quarantine with every reason; identifiers are pseudonymised in
both.

>>> from helsestat.validate.claims import CLAIMS
>>> CLAIMS.column_names[:3]
('regning_id', 'behandlingsdato', 'klokkeslett')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from helsestat.errors import ExtractError
from helsestat.ingest.readers import OPEN_QUOTE_RULE
from helsestat.model import CleanExtract, IngestReport, RawExtract
from helsestat.reference.snapshot import Reference
from helsestat.validate.clear_identifiers import (
    failures as identifier_failures,
)
from helsestat.validate.clear_identifiers import (
    pseudonymise_found,
    refuse_misplaced,
    scan_columns,
)
from helsestat.validate.identifier_scan import redact_identifiers
from helsestat.validate.identifiers import fnr_check_digits
from helsestat.validate.pseudonymise import pseudonymise_column, pseudonymise_listed
from helsestat.validate.row_rules import (
    FUTURE,
    StoredKeys,
    already_stored,
    duplicates,
    future,
    today_in,
    undecodable,
)

#: quarantine columns besides the extract's own (text) columns
LINE_COLUMN = "linje"
REASONS_COLUMN = "arsaker"
#: the rule of a CSV line that cannot be split into the header's fields
MALFORMED_RULE = "line.field_count"
#: the rule of a row with a byte that is no character of the file's encoding
ENCODING_RULE = "line.encoding"
#: the rule of a row whose line key an earlier batch of the kind has stored
ALREADY_STORED_RULE = "row.already_stored"
#: the rule of a row equal in every column to an earlier row of the file
DUPLICATE_RULE = "row.duplicate"
#: the time zone of "today" for dates in the future, unless a spec names its own
TIME_ZONE = "Europe/Oslo"

#: The ``columns`` of the rows earlier batches of a kind stored, in any partition, whose
#: values are among the given ones in every column of the mapping (``{"arende_id": ids,
#: "status": ["Inprogress"]}``): read from the lake by the caller, which validate cannot see.
StoredRows = Callable[[Sequence[str], Mapping[str, pa.Array]], pa.Table]
#: suffix of the integer code column stored beside a coded text column
CODE_SUFFIX = "_kode"


@dataclass(frozen=True)
class Column:
    """One column of an extract kind."""

    name: str
    description: str
    example: str
    required: bool = True


@dataclass(frozen=True)
class Coded:
    """A stored text column that also gets an integer code column, ``<column>_kode``, so
    that aggregation groups small integers instead of text. In a column of ``digits``-wide
    number codes (kommunenummer: 4) a value of that many digits is coded by its number
    (``"0301"`` → 301); other values, and every value of a column without ``digits``, get
    codes from the lake's append-only codebook of the kind (see
    :mod:`helsestat.store.lake.codebooks`)."""

    column: str
    digits: int | None = None

    @property
    def code_column(self) -> str:
        """Name of the stored code column."""
        return f"{self.column}{CODE_SUFFIX}"


@dataclass(frozen=True)
class Checked:
    """What a spec's check returns: typed columns for the store and a mask per rule."""

    typed: pa.Table
    failures: dict[str, np.ndarray]


@dataclass(frozen=True)
class ExtractSpec:
    """The columns, identifier columns and rules of one extract kind.

    ``check`` receives every column as text, and the reference snapshot whose code lists
    the codes are checked against; identifier columns come dictionary-encoded
    (``dictionary<int32, string>``), so their distinct values can be checked once.
    ``check_stored`` (optional) receives the typed rows, identifier columns already
    pseudonymised (under their :meth:`pseudonym_column` names), and the rows earlier batches
    stored (None when the caller has no store), for rules that relate rows to each other
    across files; its masks join those of ``check``."""

    kind: str
    title: str
    columns: tuple[Column, ...]
    identifiers: tuple[str, ...]
    check: Callable[[pa.Table, Reference], Checked]
    partition_column: str
    rules: tuple[tuple[str, str], ...]
    finish: Callable[[pa.Table], pa.Table] | None = None
    #: stored text columns that get an integer code column beside them
    coded: tuple[Coded, ...] = ()
    #: stored columns each partition file is sorted by (row groups then hold few distinct
    #: keys, so scans filter and group faster)
    sort_by: tuple[str, ...] = ()
    #: typed date or timestamp columns that may not lie after the day of ingest (rule
    #: ``<column>.future``), today in :attr:`time_zone`
    not_after_today: tuple[str, ...] = ()
    time_zone: str = TIME_ZONE
    #: stored columns that identify one line across batches (claims: the bill and its
    #: takst); a row whose key an earlier batch stored in the same partition goes to
    #: quarantine as ``row.already_stored``
    line_key: tuple[str, ...] = ()
    #: a row equal in every column to an earlier row of the file is quarantined as
    #: ``row.duplicate`` (the first copy stays)
    reject_duplicates: bool = False
    #: identifier columns that hold several identifiers, with their separator: each is
    #: pseudonymised on its own and the list joined again
    identifier_lists: tuple[tuple[str, str], ...] = ()
    #: identifier columns keep their names, holding pseudonyms (else ``pasient_id`` becomes
    #: ``pasient_pseudonym``)
    keep_identifier_names: bool = False
    check_stored: Callable[[pa.Table, StoredRows | None], dict[str, np.ndarray]] | None = None

    def pseudonym_column(self, identifier: str) -> str:
        """The name an identifier column has once pseudonymised.

        >>> from helsestat.validate.claims import CLAIMS
        >>> CLAIMS.pseudonym_column("pasient_id")
        'pasient_pseudonym'
        """
        return identifier if self.keep_identifier_names else identifier.replace("_id", "_pseudonym")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def describe(self) -> str:
        """The expected columns as text (``helsestat spec <kind>``)."""
        width = max(len(c.name) for c in self.columns)
        lines = [
            f"{self.title} ({self.kind}): one row per line, CSV (UTF-8 or Windows-1252, "
            "';' or ',' separated) or Parquet.",
            "",
        ]
        for c in self.columns:
            flag = "" if c.required else " (optional)"
            lines.append(f"  {c.name:<{width}}  {c.description}{flag}; e.g. {c.example}")
        lines += ["", "Rules (a row breaking any goes to quarantine with its reasons):"]
        lines += [f"  {code:<36} {text}" for code, text in self.rules]
        lines += [f"  {code:<36} {text}" for code, text in self.generic_rules()]
        return "\n".join(lines)

    def generic_rules(self) -> tuple[tuple[str, str], ...]:
        """The rules every kind gets from its spec, after its own :attr:`rules`."""
        future = tuple(
            (f"{c}.{FUTURE}", f"{c} lies after the day of ingest ({self.time_zone})")
            for c in self.not_after_today
        )
        stored = (
            (
                (
                    ALREADY_STORED_RULE,
                    f"a row with the same {' + '.join(self.line_key)} is stored "
                    "from an earlier file (same month)",
                ),
            )
            if self.line_key
            else ()
        )
        duplicate = (
            ((DUPLICATE_RULE, "the row is equal in every column to an earlier row of the file"),)
            if self.reject_duplicates
            else ()
        )
        return (
            *future,
            *duplicate,
            (
                "<column>.<identifier>",
                "a fødselsnummer, d-nummer, H-nummer, personnummer or samordningsnummer in a "
                "column other than " + ", ".join(self.identifiers) + " (pseudonymised in "
                "quarantine), e.g. diagnose.fodselsnummer",
            ),
            *stored,
            (MALFORMED_RULE, "a CSV line without the header's number of fields"),
            (OPEN_QUOTE_RULE, "a line from a quote never closed to the end of the file"),
            (ENCODING_RULE, "a byte that is no character of the file's encoding"),
        )


def validate(
    raw: RawExtract,
    spec: ExtractSpec,
    key: bytes,
    reference: Reference,
    *,
    today: date | None = None,
    stored_keys: StoredKeys | None = None,
    stored_rows: StoredRows | None = None,
) -> CleanExtract:
    """Validate an extract against the code lists of ``reference`` and pseudonymise it:
    accepted + quarantined == input rows, always.

    ``today`` (default: the date now in the spec's time zone) bounds the spec's
    ``not_after_today`` dates; ``stored_keys`` gives the line keys earlier batches stored
    (no check without it), ``stored_rows`` other rows they stored (the spec's
    ``check_stored`` rules then look across files, else within this one).

    Raises ExtractError (nothing accepted) when required columns are missing, or when
    personal identifiers fill a column other than the identifier columns."""
    source = redact_identifiers(raw.source)
    present = set(raw.table.column_names)
    missing = [c.name for c in spec.columns if c.required and c.name not in present]
    if missing:
        names = ", ".join(repr(m) for m in missing)
        raise ExtractError(
            "ingest.missing_column",
            f"{source} line 1: column{'s' if len(missing) > 1 else ''} {names} missing",
            hint=f"'helsestat spec {spec.kind}' lists the columns",
        )
    table = raw.table
    for c in spec.columns:
        if c.name not in present:
            table = table.append_column(c.name, pa.array([""] * table.num_rows, pa.string()))
    table = table.select(list(spec.column_names))
    found = scan_columns(table, spec.identifiers)
    refuse_misplaced(found, table, spec.identifiers, source)
    bad_bytes = undecodable(table) if raw.undecodable else None
    # Identifier columns are dictionary-encoded once: the check validates each distinct
    # identifier, and pseudonymisation hashes each one, from the same encoding.
    for ident in spec.identifiers:
        index = table.column_names.index(ident)
        encoded = pc.dictionary_encode(table.column(ident).combine_chunks())
        table = table.set_column(index, ident, encoded)
    checked = spec.check(table, reference)
    rules = dict(checked.failures)
    # Pseudonymise each identifier column once, over every row (each distinct value hashed
    # once): the rules across files (``check_stored``) compare a person's pseudonym with
    # those stored, and the accepted rows carry it in the typed table, the rejected in text.
    lists = dict(spec.identifier_lists)
    pseudonymised: dict[str, pa.Array | pa.ChunkedArray] = {}
    typed = checked.typed
    for ident in spec.identifiers:
        column = table.column(ident)
        pseudonymised[ident] = (
            pseudonymise_listed(column, key, lists[ident])
            if ident in lists
            else pseudonymise_column(column, key)
        )
        if ident in typed.column_names:
            typed = typed.set_column(
                typed.column_names.index(ident), spec.pseudonym_column(ident), pseudonymised[ident]
            )
    if spec.check_stored is not None:
        rules.update(spec.check_stored(typed, stored_rows))
    day = today or today_in(spec.time_zone)
    rules.update(future(checked.typed, spec.not_after_today, day))
    if spec.reject_duplicates:
        rules[DUPLICATE_RULE] = duplicates(table, first=spec.line_key)
    rules.update(identifier_failures(found))
    if bad_bytes is not None:
        rules[ENCODING_RULE] = bad_bytes
    if stored_keys is not None and spec.line_key:
        rules[ALREADY_STORED_RULE] = already_stored(
            checked.typed, spec.line_key, spec.partition_column, stored_keys
        )
    n = table.num_rows
    bad_any = np.zeros(n, dtype=bool)
    for mask in rules.values():
        bad_any |= mask
    by_rule = tuple((rule, int(mask.sum())) for rule, mask in rules.items() if mask.any())
    lost = [(line, MALFORMED_RULE) for line in raw.malformed_lines] + list(raw.rejected_lines)
    for rule in dict.fromkeys(r for _, r in lost):
        by_rule = (*by_rule, (rule, sum(1 for _, r in lost if r == rule)))

    quarantined = table
    for ident in spec.identifiers:
        quarantined = quarantined.set_column(
            quarantined.column_names.index(ident),
            spec.pseudonym_column(ident),
            pseudonymised[ident],
        )
    keep = pa.array(~bad_any)
    accepted = typed.filter(keep)
    if spec.finish is not None:
        accepted = spec.finish(accepted)
    quarantined = quarantined.filter(pc.invert(keep))
    # an identifier outside the identifier columns is never kept in clear
    quarantined = pseudonymise_found(quarantined, found, key)
    bad_rows = np.flatnonzero(bad_any)
    reasons = _reasons(rules, bad_rows)
    if raw.line_numbers is not None:
        line_of = np.asarray(raw.line_numbers, dtype=np.int64)[bad_rows]
    else:
        line_of = bad_rows + raw.first_line
    quarantined = quarantined.add_column(0, LINE_COLUMN, pa.array(line_of, pa.int64()))
    quarantined = quarantined.append_column(REASONS_COLUMN, pa.array(reasons, pa.string()))
    if lost:
        # the text of a line that could not be read as a row is not kept (it may hold an
        # identifier): line + reason
        m = len(lost)
        empty = {c: pa.array([""] * m, pa.string()) for c in quarantined.column_names}
        empty[LINE_COLUMN] = pa.array([line for line, _ in lost], pa.int64())
        empty[REASONS_COLUMN] = pa.array([rule for _, rule in lost], pa.string())
        quarantined = pa.concat_tables([quarantined, pa.table(empty, schema=quarantined.schema)])
        n += m

    report = IngestReport(
        source=source,
        rows_in=n,
        accepted=accepted.num_rows,
        quarantined=quarantined.num_rows,
        by_rule=by_rule,
    )
    if not report.balanced:  # pragma: no cover - a broken invariant is a bug, not bad input
        raise AssertionError("validate lost rows")
    return CleanExtract(
        kind=raw.kind,
        source=source,
        checksum=raw.checksum,
        accepted=accepted,
        quarantined=quarantined,
        report=report,
    )


def _reasons(failures: dict[str, np.ndarray], rows: np.ndarray) -> list[str]:
    if not len(rows):
        return []
    parts = [np.where(mask[rows], rule, "") for rule, mask in failures.items()]
    joined = parts[0].astype(object)
    for p in parts[1:]:
        joined = np.where((joined != "") & (p != ""), joined + ";" + p, joined + p)
    return [str(x) for x in joined]


# -- shared parsing helpers for specs ---------------------------------------------------------


def as_numpy(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """An Arrow array as a NumPy array (copied where Arrow cannot share it)."""
    return np.asarray(arr.to_numpy(zero_copy_only=False))


def distinct_codes(col: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Codes per row and the distinct values as text, a null checked as an empty value (the
    last one): rules are checked once per distinct value, then looked up per row.

    >>> codes, values = distinct_codes(pa.array(["b", None, "b"]))
    >>> codes.tolist(), values.to_pylist()
    ([0, 1, 0], ['b', ''])
    """
    array = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    encoded = array if pa.types.is_dictionary(array.type) else pc.dictionary_encode(array)
    size = len(encoded.dictionary)
    codes = np.asarray(encoded.indices.fill_null(size).to_numpy(zero_copy_only=False), np.int64)
    values = pa.concat_arrays([encoded.dictionary.cast(pa.string()), pa.array([""])])
    return codes, values


def fodselsnummer_ok(values: pa.Array) -> np.ndarray:
    """Per value: a fødselsnummer or d-nummer (day + 40) of 11 digits with valid check
    digits and a plausible day and month (the check python-stdnum's ``no.fodselsnummer``
    makes of the digits, on whole columns).

    >>> fodselsnummer_ok(pa.array(["01018012371", "41018012365", "01018012372", "0101801237"]))
    array([ True,  True, False, False])
    """
    ok = as_numpy(pc.equal(pc.utf8_length(values), 11)) & as_numpy(
        pc.fill_null(pc.ascii_is_decimal(values), False)
    )
    digits = fixed_width_digits(values, ok, 11)
    k1, k2, possible = fnr_check_digits(digits[:, :9])
    day = digits[:, 0] * 10 + digits[:, 1]
    month = digits[:, 2] * 10 + digits[:, 3]
    plausible = (
        (((day >= 1) & (day <= 31)) | ((day >= 41) & (day <= 71))) & (month >= 1) & (month <= 12)
    )
    out: np.ndarray = ok & possible & (k1 == digits[:, 9]) & (k2 == digits[:, 10]) & plausible
    return out


def matches(col: pa.ChunkedArray, pattern: str) -> np.ndarray:
    """True where the text matches the regular expression (whole value)."""
    return np.asarray(
        pc.match_substring_regex(col, f"^(?:{pattern})$").to_numpy(zero_copy_only=False), dtype=bool
    )


def parse_decimal(col: pa.ChunkedArray, ok: np.ndarray) -> np.ndarray:
    """Decimal text ("12.50" or "12,50") to float64; rows not ``ok`` become 0."""
    text = pc.replace_substring(col, ",", ".")
    safe = pc.if_else(pa.array(ok), text, "0")
    return np.asarray(pc.cast(safe, pa.float64()).to_numpy(zero_copy_only=False))


def parse_int(col: pa.ChunkedArray, ok: np.ndarray) -> np.ndarray:
    """Integer text to int64; rows not ``ok`` become 0."""
    safe = pc.if_else(pa.array(ok), col, "0")
    return np.asarray(pc.cast(safe, pa.int64()).to_numpy(zero_copy_only=False))


def fixed_width_digits(col: pa.ChunkedArray, ok: np.ndarray, width: int) -> np.ndarray:
    """An (n, width) digit array for values of exactly ``width`` digits (others all zero)."""
    safe = pc.if_else(pa.array(ok), col, "0" * width)
    arr = pa.chunked_array(safe).combine_chunks() if isinstance(safe, pa.ChunkedArray) else safe
    data = arr.buffers()[2]
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    raw = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]
    return (
        (raw.reshape(-1, width).astype(np.int32) - 48)
        if len(arr)
        else np.zeros((0, width), np.int32)
    )
