from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from kehu.core.api.views import api_actor, request_object

from .. import queries, runs, services
from ..filtersets import ScoreFilterSet
from ..models import GradeScheme, RunStatus, SegmentRun
from .serializers import (
    GradeSchemeSerializer,
    MigrationSerializer,
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
            raise ValidationError(
                {"scheme": [_("Use one of: %(types)s.") % {"types": ", ".join(runs.SCHEMES)}]}
            )
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
