"""Settings: one class, read once by the entry points (``cli.main``, ``api.create_app``) and
passed down. Nothing else in helsestat reads the environment.

Every field is documented in ``docs/settings.md``; a test fails when one is not.

>>> s = Settings(demo_mode=True)
>>> s.engine
'duckdb'
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from helsestat.errors import SettingsError

#: The pseudonymisation key used in demo mode only. It is public, so demo pseudonyms are not
#: secret; ``Settings`` refuses it outside demo mode.
DEMO_PSEUDONYM_KEY = "helsestat-demo-key-public-not-secret-0000"
MIN_KEY_LENGTH = 32
MIN_SUPPRESSION_THRESHOLD = 3


class Settings(BaseSettings):
    """All settings of helsestat. Environment variables carry the ``HELSESTAT_`` prefix."""

    model_config = SettingsConfigDict(
        env_prefix="HELSESTAT_", extra="forbid", frozen=True, use_attribute_docstrings=True
    )

    data_dir: Path = Path("var")
    """Directory of the Parquet lake (extracts, quarantine, releases) and the default SQLite
    reference database."""

    database_url: str | None = None
    """SQLAlchemy URL of the reference database. Empty: a SQLite file
    ``<data_dir>/reference.db``. PostgreSQL: ``postgresql+psycopg://user:pw@host/db``. It is
    the single source of truth for classifications, tariff lists, geography and the
    catalogue (see docs/reference.md)."""

    reference_seed: bool = True
    """Write the packaged reference files into a reference database that was never seeded,
    the first time helsestat opens it (``serve``, ``build``, ``ingest``, ``preflight``,
    ``demo``). Off: an empty database stays empty until ``helsestat reference load``."""

    reference_refresh_seconds: float = Field(default=0.0, ge=0)
    """How long the server serves its reference snapshot before asking the database whether
    the reference content changed (one small query). 0: before every request that reads it,
    so a ``helsestat reference load`` is served at once."""

    release_refresh_seconds: float = Field(default=0.1, ge=0)
    """How long the server serves the release it knows as current before it looks (one
    ``stat`` of ``releases/CURRENT``) whether a build published a newer one. 0: before every
    request, which costs a few microseconds each (a tenth of a typical answer's checking)."""

    demo_mode: bool = False
    """Demo mode allows the public demo pseudonymisation key. Never use it for real data."""

    pseudonym_key: SecretStr | None = None
    """Secret key for the HMAC pseudonyms that replace fødselsnummer and d-nummer; at least
    32 characters. Required outside demo mode by the commands that read personal identifiers
    (``ingest``, ``validate``); the API server, ``build`` and the reference commands do not
    need it, so keep it off the machines that only publish. Changing it changes every
    pseudonym."""

    suppression_threshold: int = Field(default=5, ge=0)
    """Primary frequency rule: a cell whose count is between 1 and this value is suppressed.
    At least 3."""

    protection_mode: Literal["compat", "full"] = "compat"
    """``compat``: only the documented rules of the API being replaced (Helfo: takster with
    count > 5 on kommune/år; kommuner over 10 000 inhabitants on kommune/måned). ``full``:
    the frequency rule on every table plus secondary suppression."""

    engine: Literal["duckdb", "spark"] = "duckdb"
    """Aggregation engine. ``spark`` needs the extra ``helsestat[spark]`` (pyspark)."""

    threads: int = Field(default=0, ge=0)
    """Worker threads for DuckDB; 0 means one per CPU core."""

    memory_limit: str = "2GB"
    """Memory of a build, e.g. ``2GB``: DuckDB gets half of it and spills to disk past that
    (``<data_dir>/tmp/duckdb``); the other half is for the process itself."""

    host: str = "127.0.0.1"
    """Address ``helsestat serve`` listens on."""

    port: int = Field(default=8000, ge=1, le=65535)
    """Port ``helsestat serve`` listens on."""

    workers: int = Field(default=1, ge=1)
    """Number of server worker processes for ``helsestat serve``. With more than one, each
    worker has its own ``SO_REUSEPORT`` socket on the port, so the kernel spreads the
    connections over them (see docs/api.md)."""

    synthetic_scale: int = Field(default=1_000_000, ge=1000)
    """Claim lines the demo generates (synthetic data); the test suite uses a few thousand,
    the benchmarks up to 100 million."""

    seed: int = 2026
    """Seed of the synthetic data generators: the same seed gives the same data."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Log level of the CLI and the server."""

    auth_failure_limit: int = Field(default=10, ge=1, le=1000)
    """Failed authentications (a wrong, unknown, revoked or malformed bearer token) one
    client may make within ``auth_failure_window`` seconds; after that each of its requests
    with a token is refused with 429 until the window has passed. Counted per server
    worker (see docs/security.md)."""

    auth_failure_window: int = Field(default=60, ge=1, le=86_400)
    """The window of ``auth_failure_limit``, in seconds."""

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if self.suppression_threshold < MIN_SUPPRESSION_THRESHOLD:
            raise ValueError(
                f"suppression_threshold={self.suppression_threshold} is below "
                f"{MIN_SUPPRESSION_THRESHOLD}: cells with 1-2 persons could be published"
            )
        key = self.pseudonym_key.get_secret_value() if self.pseudonym_key else ""
        if not self.demo_mode and key == DEMO_PSEUDONYM_KEY:
            raise ValueError(
                "pseudonym_key is the public demo key; it is refused outside demo mode"
            )
        if key and len(key) < MIN_KEY_LENGTH:
            raise ValueError(f"pseudonym_key is shorter than {MIN_KEY_LENGTH} characters")
        if self.engine == "spark" and importlib.util.find_spec("pyspark") is None:
            raise ValueError(
                "engine='spark' but pyspark is not installed: pip install 'helsestat[spark]'"
            )
        return self

    @property
    def key(self) -> bytes:
        """The pseudonymisation key as bytes (the demo key in demo mode when none is set).
        Outside demo mode without a key: :class:`SettingsError`, before any data is read.

        >>> Settings(demo_mode=False).key
        Traceback (most recent call last):
        ...
        helsestat.errors.SettingsError: pseudonym_key is missing: ...
        """
        if self.pseudonym_key is not None:
            return self.pseudonym_key.get_secret_value().encode()
        if self.demo_mode:
            return DEMO_PSEUDONYM_KEY.encode()
        raise SettingsError(
            "settings.no_pseudonym_key",
            "pseudonym_key is missing: reading personal identifiers needs the secret key of "
            "the HMAC pseudonyms",
            hint=f"set HELSESTAT_PSEUDONYM_KEY to a secret of at least {MIN_KEY_LENGTH} "
            "characters (the same one as for earlier ingests), or HELSESTAT_DEMO_MODE=1 for "
            "synthetic data",
        )

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'reference.db').as_posix()}"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment (plus overrides), turning refusals into a
    :class:`SettingsError` with a hint. Called once by each entry point.

    >>> load_settings(demo_mode=True).demo_mode
    True
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: "
            f"{e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
        )
        raise SettingsError(
            "settings.invalid",
            f"invalid settings: {problems}",
            hint="see docs/settings.md; every setting is an environment variable HELSESTAT_<NAME>",
        ) from None
