from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from .. import queries, runs
from ..filtersets import ScoreFilterSet
from ..models import RunStatus, SegmentRun
from .serializers import MigrationSerializer, RunSerializer, ScoreSerializer


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
            OpenApiParameter("scheme", str, enum=list(runs.SCHEMES), required=True),
            OpenApiParameter("since", int, description="the earlier run (default: the one before)"),
        ],
        responses=MigrationSerializer,
    )
    @action(detail=True)
    def migration(self, request, pk=None):
        """Who moved between segments of one scheme since an earlier run."""
        later = self.get_object()
        scheme = request.query_params.get("scheme")
        if scheme not in runs.SCHEMES:
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
        moves = runs.migration(scheme, earlier, later)
        data = {
            "scheme": scheme,
            "earlier": earlier.pk,
            "later": later.pk,
            "moves": [{"from": f, "to": t, "customers": n} for f, t, n in moves.rows()],
        }
        return Response(MigrationSerializer(data).data)
