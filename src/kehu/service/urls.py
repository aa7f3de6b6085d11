from django.contrib.auth.decorators import login_required
from django.urls import path
from django.views.decorators.http import require_POST

from . import survey_views, views

app_name = "service"
urlpatterns = [
    path("tickets/", login_required(views.ticket_list), name="tickets"),
    path("tickets/<int:pk>/", login_required(views.ticket_detail), name="ticket"),
    path(
        "tickets/<int:pk>/transition/",
        require_POST(login_required(views.ticket_transition)),
        name="ticket_transition",
    ),
    path(
        "customers/<int:customer_pk>/tickets/",
        require_POST(login_required(views.ticket_create)),
        name="ticket_create",
    ),
    path("surveys/", login_required(survey_views.survey_list), name="surveys"),
    path("surveys/new/", login_required(survey_views.survey_edit), name="survey_new"),
    path("surveys/<int:pk>/", login_required(survey_views.survey_detail), name="survey"),
    path("surveys/<int:pk>/edit/", login_required(survey_views.survey_edit), name="survey_edit"),
    path(
        "customers/<int:customer_pk>/surveys/",
        require_POST(login_required(survey_views.survey_invite)),
        name="survey_invite",
    ),
]
