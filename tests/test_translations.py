"""Both languages are complete: every string translated, nothing fuzzy, catalogues compiled."""

import shutil
import subprocess
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parent.parent / "src" / "kehu" / "locale"


def entries(po_text: str):
    """(msgid, msgstrs, flags) per entry, parsed without gettext's tools."""
    import json

    for block in po_text.split("\n\n"):
        lines = block.strip().splitlines()
        flags = " ".join(line for line in lines if line.startswith("#,"))
        current, values = None, {"msgid": "", "msgstr": []}
        for line in lines:
            if line.startswith("#"):
                continue
            if line.startswith("msgid "):
                current = "msgid"
            elif line.startswith("msgid_plural"):
                current = "plural"
            elif line.startswith("msgstr"):
                current = "msgstr"
                values["msgstr"].append("")
            text = json.loads(line[line.index('"') :])
            if current == "msgid":
                values["msgid"] += text
            elif current == "msgstr":
                values["msgstr"][-1] += text
        if values["msgid"]:
            yield values["msgid"], values["msgstr"], flags


def test_chinese_catalogue_is_complete():
    po = (LOCALE / "zh_Hans/LC_MESSAGES/django.po").read_text(encoding="utf-8")
    found = list(entries(po))
    assert len(found) > 300
    for msgid, msgstrs, flags in found:
        assert "fuzzy" not in flags, msgid
        assert msgstrs and all(msgstrs), f"untranslated: {msgid!r}"


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_compiled_catalogue_matches_its_source(tmp_path, language):
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "GNU gettext's msgfmt is needed to check the catalogues"
    source = LOCALE / language / "LC_MESSAGES" / "django.po"
    compiled = tmp_path / "django.mo"
    subprocess.run([msgfmt, "--check", "-o", str(compiled), str(source)], check=True)
    committed = (LOCALE / language / "LC_MESSAGES" / "django.mo").read_bytes()
    assert compiled.read_bytes() == committed, "run `make messages` and commit the .mo"
