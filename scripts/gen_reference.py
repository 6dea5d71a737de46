"""Generate docs/cli.md (from --help) and docs/settings.md (from the Settings docstrings).

Run: .venv/bin/python scripts/gen_reference.py   (tests/test_docs.py fails when the files
are out of date, so a new command or setting cannot go undocumented.)
"""

from __future__ import annotations

import re
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
    ctx = click.Context(
        cli,
        info_name="helsestat",
        terminal_width=100,
        max_content_width=100,
        help_option_names=["-h", "--help"],
    )
    lines += ["## helsestat", "", "```text", cli.get_help(ctx), "```", ""]
    for name in sorted(cli.list_commands(ctx)):
        cmd = cli.get_command(ctx, name)
        assert cmd is not None
        sub = click.Context(
            cmd,
            info_name=f"helsestat {name}",
            parent=ctx,
            terminal_width=100,
            max_content_width=100,
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
        "names the setting: a short `HELSESTAT_PSEUDONYM_KEY`, the public demo key outside demo",
        "mode, `HELSESTAT_SUPPRESSION_THRESHOLD` below 3, and `HELSESTAT_ENGINE=spark` without",
        "pyspark installed. A missing key is refused by the commands that read personal",
        "identifiers (`ingest`, `validate`) before they read anything; publishing (`build`,",
        "`serve`) does not need it.",
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


_CODE = re.compile(
    r'\b([A-Z][A-Za-z]*(?:Error_?|Denied))\(\s*"([a-z0-9_]+\.[a-z0-9_.]+)"'  # class, code
    r"(.*?)\)(?:\s+from\s+[\w.]+)?[ \t]*(?:#[^\n]*)?\n",  # the arguments, to the call's end
    re.S,
)
_OWN_STATUS = re.compile(r"\bstatus=(\d{3})\b")
_STATUS = {
    "SettingsError": 500,
    "InputError": 400,
    "ExtractError": 422,
    "QueryError": 400,
    "ReferenceError_": 400,
    "NotFoundError": 404,
    "PermissionDenied": 403,
    "ConflictError": 409,
    "StoreError": 500,
    "EngineError": 500,
    "ProtectionError": 500,
    "HelsestatError": 500,
}


def error_codes() -> dict[str, tuple[str, int, list[str]]]:
    """Every stable error code raised in src/, with its error class, its status (the one the
    raise gives with ``status=``, else the class's default) and the modules."""
    src = DOCS.parent / "src" / "helsestat"
    found: dict[str, tuple[str, int, list[str]]] = {}
    for path in sorted(src.rglob("*.py")):
        module = ".".join(path.relative_to(src.parent).with_suffix("").parts)
        for cls, code, arguments in _CODE.findall(path.read_text(encoding="utf-8")):
            if cls not in _STATUS or code == "x.y":
                continue
            own = _OWN_STATUS.search(arguments)
            status = int(own[1]) if own else _STATUS[cls]
            _, known, modules = found.setdefault(code, (cls, status, []))
            if own and known == _STATUS[cls]:  # a raise that sets it wins over the default
                found[code] = (cls, status, modules)
            if module not in modules:
                modules.append(module)
    return dict(sorted(found.items()))


def error_reference() -> str:
    lines = [
        "# Error codes",
        "",
        "Generated from the source by `scripts/gen_reference.py`; do not edit by hand. "
        "The error tree, the API's problem+json shape and the CLI's output are explained "
        "in [errors](errors.md). The status is the one the raise sets, else the class's "
        "default.",
        "",
        "| code | class | status | raised in |",
        "|---|---|---:|---|",
    ]
    for code, (cls, status, modules) in error_codes().items():
        where = ", ".join(f"`{m}`" for m in modules)
        lines.append(f"| `{code}` | {cls} | {status} | {where} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    (DOCS / "cli.md").write_text(cli_reference(), encoding="utf-8")
    (DOCS / "settings.md").write_text(settings_reference(), encoding="utf-8")
    (DOCS / "error-codes.md").write_text(error_reference(), encoding="utf-8")
    sys.stdout.write("wrote docs/cli.md, docs/settings.md and docs/error-codes.md\n")


if __name__ == "__main__":
    main()
