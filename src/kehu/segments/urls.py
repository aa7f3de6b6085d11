from django.urls import path

from . import views

app_name = "segments"
urlpatterns = [
    path("segments/", views.overview, name="overview"),
    path("segments/churn/", views.churn, name="churn"),
    path("segments/export.csv", views.campaign_export, name="export"),
]
