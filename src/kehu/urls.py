from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from kehu.accounts import views as account_views
from kehu.service import survey_views
from kehu.service import views as service_views

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="customers:list", permanent=False)),
    path("login/", account_views.KehuLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("account/", include("kehu.accounts.urls")),
    path("customers/", include("kehu.customers.urls")),
    path("", include("kehu.engagement.urls")),
    path("", include("kehu.sales.urls")),
    path("feedback/", service_views.public_feedback, name="public-feedback"),
    path("s/<str:token>/", survey_views.survey_answer, name="survey-answer"),
    path("", include("kehu.service.urls")),
    path("", include("kehu.loyalty.urls")),
    path("", include("kehu.segments.urls")),
    path("api/", include("kehu.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]
