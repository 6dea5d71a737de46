"""Generate docs/cli.md (from --help) and docs/settings.md (from the Settings docstrings).

Run: .venv/bin/python scripts/gen_reference.py   (tests/test_docs.py fails when the files
are out of date, so a new command or setting cannot go undocumented.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from helsestat.cli import cli
from helsestat.settings import Settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def cli_reference() -> str:
    lines = [
        "# CLI reference",
        "",
        "Generated from `helsestat --help` by `scripts/gen_reference.py`; do not edit by hand.",
        "Every command reads its settings from `HELSESTAT_*` environment variables "
        "([settings](settings.md)); errors print `error:` and `hint:` lines and exit with "
        "status 2.",
        "",
    ]
    ctx = click.Context(cli, info_name="helsestat", terminal_width=100, max_content_width=100)
    lines += ["## helsestat", "", "```text", cli.get_help(ctx), "```", ""]
    for name in sorted(cli.list_commands(ctx)):
        cmd = cli.get_command(ctx, name)
        assert cmd is not None
        sub = click.Context(
            cmd, info_name=f"helsestat {name}", parent=ctx, terminal_width=100, max_content_width=100
        )
        lines += [f"## helsestat {name}", "", "```text", cmd.get_help(sub), "```", ""]
    return "\n".join(lines)


def settings_reference() -> str:
    lines = [
        "# Settings",
        "",
        "Generated from `helsestat.settings.Settings` by `scripts/gen_reference.py`; "
        "do not edit by hand.",
        "",
        "Every setting is an environment variable with the `HELSESTAT_` prefix, read once when a",
        "command or the server starts. Unsafe values are refused at start-up with a message that",
        "names the setting: a missing or short `HELSESTAT_PSEUDONYM_KEY` outside demo mode, the",
        "public demo key outside demo mode, `HELSESTAT_SUPPRESSION_THRESHOLD` below 3, and",
        "`HELSESTAT_ENGINE=spark` without pyspark installed.",
        "",
        "| variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(none)" if default is None else f"`{default}`"
        annotation = str(field.annotation).replace("typing.", "").replace("pathlib.", "")
        annotation = annotation.replace("<class '", "").replace("'>", "").replace("|", "or")
        desc = " ".join((field.description or "").split()).replace("|", "\\|")
        lines.append(f"| `HELSESTAT_{name.upper()}` | {annotation} | {shown} | {desc} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    (DOCS / "cli.md").write_text(cli_reference(), encoding="utf-8")
    (DOCS / "settings.md").write_text(settings_reference(), encoding="utf-8")
    sys.stdout.write("wrote docs/cli.md and docs/settings.md\n")


if __name__ == "__main__":
    main()
