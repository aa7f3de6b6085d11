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
