"""Human-readable forms of stored values: field labels, choice labels, user names.

Used by the history on the customer page, the conflict message and filter chips,
so that people read 负责人: 王芳 → 李雷, not ``owner: 3 → 7``.
"""

from django.db import models
from django.utils.translation import gettext as _

from kehu.accounts.models import Team, User
from kehu.core.models import CustomFieldDefinition
from kehu.core.normalize import format_phone

from .models import Address, Contact, Customer, Note


def field_label(name: str, model=Customer) -> str:
    if name == "tags":
        return _("tags")
    if name.startswith("cf_") or name.startswith("custom_fields."):
        key = name.split("_", 1)[1] if name.startswith("cf_") else name.split(".", 1)[1]
        definition = CustomFieldDefinition.objects.filter(key=key).first()
        return definition.label if definition else key
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 (an unknown name is shown as it is)
        return name


class ValueFormatter:
    """Formats many values with one query per related model."""

    def __init__(self, model=Customer):
        self.model = model
        self.user_ids: set[int] = set()
        self.team_ids: set[int] = set()
        self.users: dict[int, str] = {}
        self.teams: dict[int, str] = {}
        self.definitions = {d.key: d for d in CustomFieldDefinition.objects.all()}

    def note(self, name, value) -> None:
        if name == "owner" and isinstance(value, int):
            self.user_ids.add(value)
        elif name == "team" and isinstance(value, int):
            self.team_ids.add(value)

    def load(self) -> None:
        if self.user_ids:
            self.users = {u.pk: str(u) for u in User.objects.filter(pk__in=self.user_ids)}
        if self.team_ids:
            self.teams = {t.pk: t.name for t in Team.objects.filter(pk__in=self.team_ids)}

    def format(self, name: str, value) -> str:
        if value in (None, "", [], {}):
            return "—"
        if name == "owner":
            return self.users.get(value, f"#{value}")
        if name == "team":
            return self.teams.get(value, f"#{value}")
        if name == "phones" and isinstance(value, list):
            return ", ".join(format_phone(v) for v in value)
        if isinstance(value, bool):
            return _("Yes") if value else _("No")
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        try:
            field = self.model._meta.get_field(name)
        except Exception:  # noqa: BLE001
            field = None
        if isinstance(field, models.Field) and field.choices:
            return str(dict(field.flatchoices).get(value, value))
        return str(value)


def change_rows(entries, model=Customer) -> list[dict]:
    """History entries with their changes as (label, before, after) rows."""
    formatter = ValueFormatter(model)
    for entry in entries:
        for name, pair in (entry.changes or {}).items():
            for value in pair:
                formatter.note(name, value)
    formatter.load()
    result = []
    for entry in entries:
        entry_model = {"contact": Contact, "note": Note, "address": Address}.get(
            entry.content_type.model, model
        )
        formatter.model = entry_model
        rows = []
        for name, (before, after) in sorted((entry.changes or {}).items()):
            if name == "custom_fields":
                rows.extend(_custom_rows(formatter, before or {}, after or {}))
                continue
            rows.append(
                {
                    "label": field_label(name, entry_model),
                    "before": formatter.format(name, before),
                    "after": formatter.format(name, after),
                }
            )
        result.append({"entry": entry, "rows": rows})
    return result


def _custom_rows(formatter, before: dict, after: dict) -> list[dict]:
    rows = []
    for key in sorted(before.keys() | after.keys()):
        if before.get(key) == after.get(key):
            continue
        definition = formatter.definitions.get(key)
        rows.append(
            {
                "label": definition.label if definition else key,
                "before": formatter.format(key, before.get(key)),
                "after": formatter.format(key, after.get(key)),
            }
        )
    return rows
