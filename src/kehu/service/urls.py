from django.contrib.auth.decorators import login_required
from django.urls import path
from django.views.decorators.http import require_POST

from . import views

app_name = "service"
urlpatterns = [
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
]
