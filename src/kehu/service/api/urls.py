from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("tickets", views.TicketViewSet, basename="ticket")
router.register("ticket-causes", views.TicketCauseViewSet, basename="ticketcause")
urlpatterns = router.urls
