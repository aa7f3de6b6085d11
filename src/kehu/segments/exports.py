"""A campaign list: the customers of a segment, class, stage or grade as CSV,
with their contact columns (the customer export's) and their figures."""

import csv
from collections.abc import Iterator

from django.utils.translation import gettext as _

from kehu.customers.exports import _Echo, export_columns, safe_cell

from . import labels


def _number(value) -> str:
    return "" if value is None else str(value)


def _grades(score) -> str:
    grades = (score.grades or {}).items()
    return ", ".join(f"{key}: {value['grade']}" for key, value in grades if value.get("grade"))


def score_columns():
    return [
        ("rfm_segment", _("RFM segment"), lambda s: labels.SEGMENTS.get(s.rfm_segment, "")),
        ("rfm_class", _("RFM class"), lambda s: labels.CLASSES.get(s.rfm_class, "")),
        ("stage", _("Lifecycle stage"), lambda s: labels.STAGES.get(s.lifecycle_stage, "")),
        ("rfm", "RFM", lambda s: f"{s.r_score}{s.f_score}{s.m_score}" if s.r_score else ""),
        ("last_purchase", _("Last purchase"), lambda s: _number(s.last_purchase)),
        ("net_spend", _("Net spend"), lambda s: _number(s.rfm_monetary)),
        ("grades", _("Grades"), _grades),
        ("p_alive", _("Probability active"), lambda s: _number(s.p_alive)),
        ("clv", _("Lifetime value"), lambda s: _number(s.clv)),
        ("value_at_risk", _("Value at risk"), lambda s: _number(s.value_at_risk)),
    ]


def campaign_csv_rows(scores) -> Iterator[str]:
    """CSV lines, header first, with a BOM so that Excel reads Chinese."""
    customer_columns = export_columns()
    figures = score_columns()
    writer = csv.writer(_Echo())
    header = [label for _key, label, _get in customer_columns + figures]
    yield "\ufeff" + writer.writerow(header)
    rows = scores.select_related("customer__owner", "customer__team").prefetch_related(
        "customer__tags"
    )
    for score in rows.iterator(chunk_size=2000):
        customer = score.customer
        cells = [get(customer) for _k, _l, get in customer_columns]
        cells += [get(score) for _k, _l, get in figures]
        yield writer.writerow([safe_cell(cell) for cell in cells])
