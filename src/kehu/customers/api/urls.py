from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("addresses", views.AddressViewSet, basename="address")
router.register("notes", views.NoteViewSet, basename="note")
router.register("tags", views.TagViewSet, basename="tag")
router.register("saved-lists", views.SavedListViewSet, basename="savedlist")
router.register("custom-fields", views.CustomFieldDefinitionViewSet, basename="customfield")
urlpatterns = router.urls
