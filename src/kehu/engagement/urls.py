from django.urls import path

from . import views

app_name = "engagement"
urlpatterns = [
    path("tasks/", views.inbox, name="inbox"),
    path("care/holidays/", views.holidays, name="holidays"),
    path("tasks/<int:pk>/status/", views.task_status, name="task_status"),
    path(
        "customers/<int:customer_pk>/behaviour/",
        views.customer_behaviour,
        name="customer_behaviour",
    ),
    path(
        "customers/<int:customer_pk>/interactions/",
        views.interaction_create,
        name="interaction_create",
    ),
]
