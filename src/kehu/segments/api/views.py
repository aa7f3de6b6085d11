from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from kehu.core.api.views import api_actor, request_object
from kehu.customers import queries as customer_queries

from .. import dimension_services, queries, runs, services
from ..filtersets import ScoreFilterSet
from ..models import (
    Dimension,
    DimensionValue,
    GradeScheme,
    ManualAssignment,
    Rule,
    RunStatus,
    SegmentRun,
)
from ..preview import rule_preview
from .serializers import (
    DimensionSerializer,
    GradeSchemeSerializer,
    ManualAssignmentSerializer,
    MigrationSerializer,
    RuleFieldSerializer,
    RulePreviewSerializer,
    RuleSerializer,
    RunSerializer,
    ScoreSerializer,
)


class ScoreViewSet(viewsets.ReadOnlyModelViewSet):
    """Each customer's figures from the latest segment run (RFM, segment, class,
    lifecycle, predictions), for the customers the caller may see. Filter by
    segment, class or stage to build a campaign list."""

    serializer_class = ScoreSerializer
    filterset_class = ScoreFilterSet
    lookup_field = "customer"

    def get_queryset(self):
        return queries.scores_visible_to(self.request.user).order_by("customer_id")


class RunViewSet(viewsets.ReadOnlyModelViewSet):
    """Segment runs, newest first, with their figures: sizes per scheme, the
    R × F matrix (customers and revenue), fitted parameters and timings. For
    admins, managers and analysts."""

    serializer_class = RunSerializer
    filterset_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SegmentRun.objects.none()
        if not queries.can_see_runs(self.request.user):
            raise PermissionDenied(_("Your role may not see segment runs."))
        return SegmentRun.objects.order_by("-started_at", "-id")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "scheme",
                str,
                required=True,
                description="rfm_segment, rfm_class, lifecycle_stage or grade:<scheme key>",
            ),
            OpenApiParameter("since", int, description="the earlier run (default: the one before)"),
        ],
        responses=MigrationSerializer,
    )
    @action(detail=True)
    def migration(self, request, pk=None):
        """Who moved between segments of one scheme since an earlier run."""
        later = self.get_object()
        scheme = request.query_params.get("scheme", "")
        if not later.snapshots.filter(scheme=scheme).exists():
            known = later.snapshots.values_list("scheme", flat=True).order_by("scheme")
            raise ValidationError(
                {"scheme": [_("Use one of: %(types)s.") % {"types": ", ".join(known)}]}
            )
        several = Dimension.objects.filter(key=scheme.removeprefix("dimension:"), multiple=True)
        if scheme.startswith("dimension:") and several.exists():
            message = _("A customer can hold several values of this dimension: see the sizes.")
            raise ValidationError({"scheme": [message]})
        since = request.query_params.get("since")
        if since:
            if not since.isdigit():
                raise ValidationError({"since": [_("Send a run's id.")]})
            earlier = self.get_queryset().filter(pk=int(since), status=RunStatus.DONE).first()
        else:
            earlier = queries.previous_run(later)
        if earlier is None or later.status != RunStatus.DONE:
            raise ValidationError({"since": [_("There is no finished run to compare with.")]})
        if not earlier.snapshots.filter(scheme=scheme).exists():
            raise ValidationError({"since": [_("That run did not classify by this scheme.")]})
        moves = runs.migration(scheme, earlier, later)
        data = {
            "scheme": scheme,
            "earlier": earlier.pk,
            "later": later.pk,
            "moves": [{"from": f, "to": t, "customers": n} for f, t, n in moves.rows()],
        }
        return Response(MigrationSerializer(data).data)


class GradeSchemeViewSet(viewsets.ModelViewSet):
    """Value grading schemes (客户分级): weights of recency, frequency, spend and
    loyalty (tenure), and grades best first, ``[{"label": "A", "value": 20}, …]``
    (shares of customers in percent, or minimum scores). Admins write; the next
    run grades by the active ones."""

    serializer_class = GradeSchemeSerializer
    pagination_class = None
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return GradeScheme.objects.none()
        if not queries.can_see_runs(self.request.user):
            raise PermissionDenied(_("Your role may not see segment runs."))
        return GradeScheme.objects.order_by("position", "id")

    @extend_schema(request=GradeSchemeSerializer)
    def create(self, request, *args, **kwargs):
        scheme = services.grade_scheme_save(actor=api_actor(request), data=request_object(request))
        return Response(GradeSchemeSerializer(scheme).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=GradeSchemeSerializer)
    def update(self, request, *args, **kwargs):
        data = request_object(request)
        scheme = services.grade_scheme_save(
            actor=api_actor(request), data=data, scheme=self.get_object()
        )
        return Response(GradeSchemeSerializer(scheme).data)

    def destroy(self, request, *args, **kwargs):
        services.grade_scheme_delete(actor=api_actor(request), scheme=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class _StandardsViewSet(viewsets.ModelViewSet):
    """Read by the roles that analyse, written by admins through the services."""

    pagination_class = None
    filter_backends: list = []
    model = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        if not queries.can_see_runs(self.request.user):
            raise PermissionDenied(_("Your role may not see segment runs."))
        return self.model.objects.all()


class DimensionViewSet(_StandardsViewSet):
    """Classification dimensions (分类标准) and their values. Write with
    ``values: [{"key", "name"}, …]`` in order; a value keeps its identity by
    its key. Admins write."""

    serializer_class = DimensionSerializer
    model = Dimension

    def get_queryset(self):
        return super().get_queryset().prefetch_related("values")

    @extend_schema(request=DimensionSerializer)
    def create(self, request, *args, **kwargs):
        dimension = dimension_services.dimension_save(
            actor=api_actor(request), data=request_object(request)
        )
        return Response(DimensionSerializer(dimension).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DimensionSerializer)
    def update(self, request, *args, **kwargs):
        dimension = dimension_services.dimension_save(
            actor=api_actor(request), data=request_object(request), dimension=self.get_object()
        )
        return Response(DimensionSerializer(dimension).data)

    def destroy(self, request, *args, **kwargs):
        dimension_services.dimension_delete(actor=api_actor(request), dimension=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


class RuleViewSet(_StandardsViewSet):
    """Rules that set a dimension value (``value``: its id) or a tag (``tag``:
    its name) on the customers their ``conditions`` match, by ``priority``
    (lowest first). ``POST rules/preview/`` counts who a draft would move
    before it is saved; ``GET rules/fields/`` lists the fields and operators.
    Admins write; changes take effect at the next run."""

    serializer_class = RuleSerializer
    model = Rule

    def get_queryset(self):
        rules = super().get_queryset().select_related("value__dimension", "tag")
        dimension = self.request.query_params.get("dimension")
        if dimension:
            rules = rules.filter(value__dimension__key=dimension)
        return rules

    @extend_schema(request=RuleSerializer)
    def create(self, request, *args, **kwargs):
        rule = dimension_services.rule_save(actor=api_actor(request), data=request_object(request))
        return Response(RuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RuleSerializer)
    def update(self, request, *args, **kwargs):
        rule = dimension_services.rule_save(
            actor=api_actor(request), data=request_object(request), rule=self.get_object()
        )
        return Response(RuleSerializer(rule).data)

    def destroy(self, request, *args, **kwargs):
        dimension_services.rule_delete(actor=api_actor(request), rule=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=RuleSerializer, responses=RulePreviewSerializer)
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """What saving the body would do: as a new rule, or with ``rule`` (an
        id) as that rule's new version."""
        data = request_object(request)
        rule = None
        if data.get("rule") is not None:
            rule = self.get_queryset().filter(pk=_whole_id(data.pop("rule"), "rule")).first()
            if rule is None:
                raise ValidationError({"rule": [_("There is no such rule.")]})
        result = rule_preview(actor=api_actor(request), data=data, rule=rule)
        return Response(RulePreviewSerializer(result).data)

    @extend_schema(responses=RuleFieldSerializer(many=True))
    @action(detail=False)
    def fields(self, request):
        """The fields a condition may test, their kinds, operators and choices."""
        self.get_queryset()  # the same access as the rules
        return Response(RuleFieldSerializer(queries.rule_field_catalogue(), many=True).data)


def _whole_id(value, field: str) -> int:
    if isinstance(value, bool) or not str(value).strip().isdigit():
        raise ValidationError({field: [_("Send a whole number id.")]})
    return int(str(value).strip())


class ManualAssignmentViewSet(
    viewsets.mixins.ListModelMixin,
    viewsets.mixins.CreateModelMixin,
    viewsets.mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Dimension values given by hand, for the customers the caller may see
    (``?customer=`` for one). Giving one needs the right to edit the customer;
    in a single-value dimension it replaces the one before."""

    serializer_class = ManualAssignmentSerializer
    filter_backends: list = []

    def get_queryset(self):
        found = ManualAssignment.objects.filter(
            customer__in=customer_queries.customers_visible_to(self.request.user)
        ).select_related("value__dimension")
        customer = self.request.query_params.get("customer")
        if customer:
            found = found.filter(customer_id=_whole_id(customer, "customer"))
        return found.order_by("customer_id", "id")

    @extend_schema(request=ManualAssignmentSerializer)
    def create(self, request, *args, **kwargs):
        data = request_object(request)
        customer = (
            customer_queries.customers_visible_to(request.user)
            .filter(pk=_whole_id(data.get("customer"), "customer"))
            .first()
        )
        if customer is None:
            raise ValidationError({"customer": [_("There is no such customer.")]})
        value = DimensionValue.objects.filter(pk=_whole_id(data.get("value"), "value")).first()
        if value is None:
            raise ValidationError({"value": [_("Choose a value of a dimension.")]})
        dimension_services.manual_assign(actor=api_actor(request), customer=customer, value=value)
        given = ManualAssignment.objects.get(customer=customer, value=value)
        return Response(ManualAssignmentSerializer(given).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        given = self.get_object()
        dimension_services.manual_unassign(
            actor=api_actor(request), customer=given.customer, value=given.value
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
