from __future__ import annotations

import re
from pathlib import Path

import pytest

from helsestat.errors import SettingsError
from helsestat.settings import DEMO_PSEUDONYM_KEY, Settings, load_settings

DOCS = Path(__file__).parents[1] / "docs" / "settings.md"
GOOD_KEY = "k" * 40


def test_defaults_in_demo_mode() -> None:
    s = load_settings(demo_mode=True)
    assert (s.engine, s.suppression_threshold, s.protection_mode) == ("duckdb", 5, "compat")
    assert s.key == DEMO_PSEUDONYM_KEY.encode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"pseudonym_key": "short"}, "shorter than 32"),
        ({"pseudonym_key": DEMO_PSEUDONYM_KEY}, "public demo key"),
        ({"pseudonym_key": GOOD_KEY, "suppression_threshold": 2}, "below 3"),
        ({"demo_mode": True, "suppression_threshold": 0}, "below 3"),
        ({"pseudonym_key": GOOD_KEY, "engine": "oracle"}, "engine"),
        ({"pseudonym_key": GOOD_KEY, "port": 0}, "port"),
    ],
)
def test_unsafe_values_are_refused_with_a_clear_message(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(**overrides)
    assert message in info.value.message
    assert info.value.code == "settings.invalid"
    assert "docs/settings.md" in info.value.hint


def test_the_key_is_needed_only_where_identifiers_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from helsestat.cli import main

    settings = load_settings(data_dir=tmp_path)  # a publishing machine: no key
    with pytest.raises(SettingsError) as info:
        _ = settings.key
    assert info.value.code == "settings.no_pseudonym_key"
    assert "HELSESTAT_PSEUDONYM_KEY" in info.value.hint
    monkeypatch.delenv("HELSESTAT_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("HELSESTAT_DEMO_MODE", raising=False)
    monkeypatch.setenv("HELSESTAT_DATA_DIR", str(tmp_path))
    assert main(["spec", "claims"]) == 0
    extract = tmp_path / "claims.csv"
    extract.write_text("regning_id\nR1\n", encoding="utf-8")
    for command in (["ingest", "claims", str(extract)], ["validate", "claims", str(extract)]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "pseudonym_key is missing" in err and "hint:" in err
    assert not (tmp_path / "extracts").exists() and not (tmp_path / "quarantine").exists()


def test_key_never_in_the_error_message() -> None:
    secret = "super-secret-but-short"
    with pytest.raises(SettingsError) as info:
        load_settings(pseudonym_key=secret)
    assert secret not in str(info.value)


def test_environment_prefix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HELSESTAT_PSEUDONYM_KEY", GOOD_KEY)
    monkeypatch.setenv("HELSESTAT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HELSESTAT_SUPPRESSION_THRESHOLD", "4")
    s = load_settings()
    assert (s.data_dir, s.suppression_threshold, s.key) == (tmp_path, 4, GOOD_KEY.encode())
    assert s.resolved_database_url == f"sqlite:///{tmp_path.as_posix()}/reference.db"


def test_spark_engine_accepted_when_pyspark_is_installed() -> None:
    assert load_settings(demo_mode=True, engine="spark").engine == "spark"


def test_every_setting_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"`HELSESTAT_([A-Z_]+)`", text))
    fields = {name.upper() for name in Settings.model_fields}
    assert fields - documented == set(), "settings missing from docs/settings.md"
    assert documented - fields == set(), "docs/settings.md documents settings that do not exist"
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no docstring"
