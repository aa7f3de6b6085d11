"""What segments, classes and stages are called in the UI (the engine and
the files use their codes and the CLI the English names of docs/segments.md)."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

SEGMENTS = {
    "champions": pgettext_lazy("rfm segment", "Champions"),
    "loyal": pgettext_lazy("rfm segment", "Loyal"),
    "potential_loyalist": pgettext_lazy("rfm segment", "Potential Loyalist"),
    "new": pgettext_lazy("rfm segment", "New"),
    "promising": pgettext_lazy("rfm segment", "Promising"),
    "need_attention": pgettext_lazy("rfm segment", "Need Attention"),
    "about_to_sleep": pgettext_lazy("rfm segment", "About to Sleep"),
    "at_risk": pgettext_lazy("rfm segment", "At Risk"),
    "cant_lose": pgettext_lazy("rfm segment", "Can't Lose Them"),
    "hibernating": pgettext_lazy("rfm segment", "Hibernating"),
    "lost": pgettext_lazy("rfm segment", "Lost"),
}
CLASSES = {
    "important_value": _("Important value"),
    "important_develop": _("Important to develop"),
    "important_keep": _("Important to keep"),
    "important_retain": _("Important to win back"),
    "general_value": _("General value"),
    "general_develop": _("General to develop"),
    "general_keep": _("General to keep"),
    "general_retain": _("General to win back"),
}
STAGES = {
    "new": pgettext_lazy("lifecycle", "New customer"),
    "active": pgettext_lazy("lifecycle", "Active"),
    "silent": pgettext_lazy("lifecycle", "Silent"),
    "churned": pgettext_lazy("lifecycle", "Churned"),
}
SCHEMES = {
    "rfm_segment": (_("RFM segment"), SEGMENTS),
    "rfm_class": (_("RFM class"), CLASSES),
    "lifecycle_stage": (_("Lifecycle stage"), STAGES),
}

# The shipped grading scheme's name (segments/migrations/0005), for makemessages.
SHIPPED_SCHEME_NAMES = [_("Value grade")]

# Rule fields and operators as the condition builder shows them (rules.py).
FIELDS = {
    "kind": _("Customer kind"),
    "status": _("Status"),
    "source": _("Source"),
    "province": _("Province"),
    "city": _("City"),
    "industry": _("Industry"),
    "company_size": _("Company size"),
    "employees": _("Employees"),
    "annual_revenue": _("Annual revenue"),
    "owner": _("Owner (user id)"),
    "team": _("Team (id)"),
    "days_since_created": _("Days since created"),
    "tags": _("Tags"),
    "order_count": _("Number of purchases"),
    "total_spent": _("Total net spend"),
    "average_spent": _("Average spend per purchase"),
    "days_since_last_purchase": _("Days since the last purchase"),
    "purchases_in_days": _("Purchases in the last N days"),
    "open_complaints": _("Open complaints"),
    "nps": _("Latest NPS answer (0–10)"),
    "csat": _("Latest CSAT answer (1–5)"),
    "rfm_segment": _("RFM segment"),
    "rfm_class": _("RFM class"),
    "lifecycle_stage": _("Lifecycle stage"),
    "r_score": _("R score"),
    "f_score": _("F score"),
    "m_score": _("M score"),
}
OPERATORS = {
    "eq": _("is"),
    "ne": _("is not"),
    "gt": _("is more than"),
    "gte": _("is at least"),
    "lt": _("is less than"),
    "lte": _("is at most"),
    "between": _("is between"),
    "in": _("is one of"),
    "not_in": _("is none of"),
    "contains": _("contains"),
    "starts_with": _("starts with"),
    "empty": _("is empty"),
    "not_empty": _("is not empty"),
    "has": _("has"),
    "has_not": _("does not have"),
}

# The shipped classification standards (segments/defaults.py), for makemessages.
SHIPPED_DIMENSION_NAMES = [
    _("Customer type"), _("Individual"), _("Company"),
    _("Location"), _("East China"), _("South China"), _("North China"), _("Central China"),
    _("Southwest China"), _("Northwest China"), _("Northeast China"),
    _("Hong Kong, Macao and Taiwan"),
    _("Industry"), _("Manufacturing"), _("Wholesale and retail"), _("Information technology"),
    _("Finance"), _("Real estate and construction"), _("Education"), _("Health care"),
    _("Other industries"),
    _("Company size"), _("Micro (under 10)"), _("Small (10–99)"), _("Medium (100–999)"),
    _("Large (1000 and more)"),
    _("Business relationship"), _("Churned"), _("Long-term partner"), _("Partner"),
    _("Potential"),
    _("Purchase behaviour"), _("Repeat buyer"), _("First-time buyer"), _("Prospect"),
    _("Service needs"), _("Open complaint"), _("Low satisfaction"), _("Promoter"),
]  # fmt: skip
