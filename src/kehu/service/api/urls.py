from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("tickets", views.TicketViewSet, basename="ticket")
router.register("ticket-causes", views.TicketCauseViewSet, basename="ticketcause")
router.register("surveys", views.SurveyViewSet, basename="survey")
router.register("survey-invitations", views.SurveyInvitationViewSet, basename="surveyinvitation")
router.register("survey-responses", views.SurveyResponseViewSet, basename="surveyresponse")
urlpatterns = router.urls
