from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("segments/scores", views.ScoreViewSet, basename="segment-score")
router.register("segments/runs", views.RunViewSet, basename="segment-run")
router.register("segments/grade-schemes", views.GradeSchemeViewSet, basename="grade-scheme")
router.register("segments/dimensions", views.DimensionViewSet, basename="dimension")
router.register("segments/rules", views.RuleViewSet, basename="rule")
router.register(
    "segments/manual-assignments", views.ManualAssignmentViewSet, basename="manual-assignment"
)
urlpatterns = router.urls
