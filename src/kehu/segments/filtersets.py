import django_filters as filters
from django.utils.translation import gettext_lazy as _

from .labels import CLASSES, SEGMENTS, STAGES
from .models import CustomerScore


class ScoreFilterSet(filters.FilterSet):
    rfm_segment = filters.MultipleChoiceFilter(
        choices=list(SEGMENTS.items()), label=_("RFM segment"), distinct=False
    )
    rfm_class = filters.MultipleChoiceFilter(
        choices=list(CLASSES.items()), label=_("RFM class"), distinct=False
    )
    lifecycle_stage = filters.MultipleChoiceFilter(
        choices=list(STAGES.items()), label=_("Lifecycle stage"), distinct=False
    )
    r_score = filters.NumberFilter()
    f_score = filters.NumberFilter()
    m_score = filters.NumberFilter()
    clv_min = filters.NumberFilter(field_name="clv", lookup_expr="gte")
    p_alive_max = filters.NumberFilter(field_name="p_alive", lookup_expr="lte")

    class Meta:
        model = CustomerScore
        fields = ["customer"]
