from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("events", views.EventViewSet, basename="event")
router.register("interactions", views.InteractionViewSet, basename="interaction")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("holidays", views.HolidayViewSet, basename="holiday")
urlpatterns = router.urls
