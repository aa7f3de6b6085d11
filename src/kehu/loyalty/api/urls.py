from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("loyalty/accounts", views.AccountViewSet, basename="loyalty-account")
router.register("loyalty/entries", views.EntryViewSet, basename="loyalty-entry")
router.register("loyalty/tiers", views.TierViewSet, basename="loyalty-tier")
router.register("loyalty/earn-rules", views.EarnRuleViewSet, basename="loyalty-earn-rule")
urlpatterns = router.urls
