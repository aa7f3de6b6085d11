from django.urls import include, path

from kehu.accounts.api import views as account_views

urlpatterns = [
    path("auth/token/", account_views.ObtainToken.as_view(), name="api-token"),
    path("", include("kehu.accounts.api.urls")),
    path("", include("kehu.customers.api.urls")),
    path("", include("kehu.sales.api.urls")),
    path("", include("kehu.engagement.api.urls")),
    path("", include("kehu.service.api.urls")),
    path("", include("kehu.loyalty.api.urls")),
    path("", include("kehu.segments.api.urls")),
]
