"""The ``kehu`` command: Django management commands under one name.

``kehu serve``, ``kehu migrate``, ``kehu createadmin``, ``kehu demo`` and the
rest; ``kehu --help`` lists Kehu's own commands first.
"""

import os
import sys

KEHU_COMMANDS = {
    "serve": "run the web server (gunicorn; --dev for Django's autoreloading server)",
    "migrate": "create or upgrade the database schema",
    "createadmin": "create or update an administrator account, non-interactively",
    "demo": "load deterministic demo customers, users, teams and their history",
    "worker": "run scheduled jobs: follow-up reminders, care reminders, points expiry",
    "purge": "empty the recycle bin of records older than the retention",
    "loyalty": "loyalty points: `expire` what is past its time (daily), `check` the balances",
    "care_reminders": "create birthday and holiday follow-ups for customers' owners (daily)",
    "segment": "`run`: classify every customer (RFM, lifecycle, CLV); `history`; `recommend`",
    "analyze": "RFM, segments, lifecycle and CLV predictions for any transactions file",
    "compilemessages": "compile translations (needs GNU gettext)",
}

HELP = """usage: kehu <command> [options]

Kehu (客户) customer management. Commands:
{commands}

`kehu <command> --help` shows a command's options; `kehu help --all` lists every
Django management command, which `kehu` also runs.
Configuration comes from environment variables: KEHU_DATABASE_URL (default:
SQLite in ./var/kehu.sqlite3), KEHU_SECRET_KEY, KEHU_TIME_ZONE, KEHU_LANGUAGE.
"""


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    if not argv or argv[0] in {"-h", "--help"} or argv == ["help"]:
        width = max(len(c) for c in KEHU_COMMANDS)
        lines = "\n".join(f"  {c.ljust(width)}  {d}" for c, d in KEHU_COMMANDS.items())
        print(HELP.format(commands=lines))
        return
    if argv[:2] == ["help", "--all"]:
        argv = ["help"]
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kehu", *argv])


if __name__ == "__main__":
    main()
