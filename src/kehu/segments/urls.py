from django.urls import path

from . import dimension_views, grade_views, views

app_name = "segments"
urlpatterns = [
    path("segments/", views.overview, name="overview"),
    path("segments/churn/", views.churn, name="churn"),
    path("segments/export.csv", views.campaign_export, name="export"),
    path("segments/dimensions/", dimension_views.dimension_list, name="dimensions"),
    path("segments/dimensions/new/", dimension_views.dimension_edit, name="dimension_new"),
    path("segments/dimensions/<int:pk>/", dimension_views.dimension_edit, name="dimension"),
    path(
        "segments/dimensions/<int:pk>/delete/",
        dimension_views.dimension_delete,
        name="dimension_delete",
    ),
    path("segments/rules/new/", dimension_views.rule_edit, name="rule_new"),
    path("segments/rules/preview/", dimension_views.rule_preview_view, name="rule_preview"),
    path("segments/rules/<int:pk>/", dimension_views.rule_edit, name="rule"),
    path("segments/rules/<int:pk>/delete/", dimension_views.rule_delete, name="rule_delete"),
    path("segments/grades/new/", grade_views.grade_scheme_edit, name="grade_scheme_new"),
    path("segments/grades/<int:pk>/", grade_views.grade_scheme_edit, name="grade_scheme"),
    path(
        "segments/grades/<int:pk>/delete/",
        grade_views.grade_scheme_delete,
        name="grade_scheme_delete",
    ),
    path(
        "customers/<int:customer_pk>/dimension-values/",
        dimension_views.manual_value,
        name="manual_value",
    ),
]
