"""Streaming CSV export of a customer list, with the same filters and permissions as the list."""

import csv
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from kehu.core.custom_fields import definitions_for

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """Text that a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value):
        return value


def export_columns():
    base = [
        ("id", _("ID"), lambda c: c.pk),
        ("kind", _("Kind"), lambda c: c.get_kind_display()),
        ("name", _("Name"), lambda c: c.name),
        ("phones", _("Phones"), lambda c: "; ".join(c.phones_display)),
        ("emails", _("Emails"), lambda c: "; ".join(c.emails)),
        ("company_name", _("Company"), lambda c: c.company_name),
        ("province", _("Province"), lambda c: c.province),
        ("city", _("City"), lambda c: c.city),
        ("district", _("District"), lambda c: c.district),
        ("street", _("Street address"), lambda c: c.street),
        ("industry", _("Industry"), lambda c: c.industry),
        ("source", _("Source"), lambda c: c.get_source_display()),
        ("status", _("Status"), lambda c: c.get_status_display()),
        ("owner", _("Owner"), lambda c: c.owner.username if c.owner_id else ""),
        ("team", _("Team"), lambda c: c.team.name if c.team_id else ""),
        ("tags", _("Tags"), lambda c: ", ".join(sorted(t.name for t in c.tags.all()))),
        ("created_at", _("Created"), lambda c: c.created_at.isoformat()),
        ("updated_at", _("Updated"), lambda c: c.updated_at.isoformat()),
    ]
    for definition in definitions_for():
        base.append(
            (
                f"cf_{definition.key}",
                definition.label,
                lambda c, key=definition.key: _custom_text(c.custom_fields.get(key)),
            )
        )
    return base


def _custom_text(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    return "" if value is None else str(value)


def customer_csv_rows(queryset) -> Iterator[str]:
    """CSV lines, header first; a BOM so that Excel reads UTF-8 Chinese correctly."""
    columns = export_columns()
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([label for _key, label, _get in columns])
    if isinstance(queryset, QuerySet):
        rows = queryset.select_related("owner", "team").prefetch_related("tags")
        rows = rows.iterator(chunk_size=2000)
    else:  # a list's rows found by ids (filtersets.RowsByIds), read as the list reads them
        rows = queryset
    for customer in rows:
        yield writer.writerow([safe_cell(get(customer)) for _key, _label, get in columns])
