from django.urls import path

from . import views

app_name = "loyalty"
urlpatterns = [
    path("loyalty/", views.programme, name="programme"),
    path("customers/<int:customer_pk>/points/", views.entry_create, name="entry_create"),
]
