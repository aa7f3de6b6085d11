from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("new/", views.customer_create, name="create"),
    path("bulk/", views.customer_bulk, name="bulk"),
    path("filters/", views.customer_filters, name="filters"),
    path("export.csv", views.customer_export, name="export"),
    path("lists/", views.saved_list_create, name="saved_list_create"),
    path("lists/<int:pk>/delete/", views.saved_list_delete, name="saved_list_delete"),
    path("recycle-bin/", views.recycle_bin, name="recycle_bin"),
    path("tags/", views.tag_list, name="tags"),
    path("tags/<int:pk>/", views.tag_edit, name="tag_edit"),
    path("fields/", views.custom_field_list, name="custom_fields"),
    path("fields/new/", views.custom_field_edit, name="custom_field_create"),
    path("fields/<int:pk>/", views.custom_field_edit, name="custom_field_edit"),
    path("fields/<int:pk>/delete/", views.custom_field_delete, name="custom_field_delete"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/edit/", views.customer_edit, name="edit"),
    path("<int:pk>/timeline/", views.customer_timeline, name="timeline"),
    path("<int:pk>/delete/", views.customer_delete, name="delete"),
    path("<int:pk>/restore/", views.customer_restore, name="restore"),
    path("<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("<int:pk>/contacts/<int:contact_pk>/", views.contact_edit, name="contact_edit"),
    path("<int:pk>/contacts/<int:contact_pk>/delete/", views.contact_delete, name="contact_delete"),
    path("<int:pk>/addresses/new/", views.address_edit, name="address_create"),
    path("<int:pk>/addresses/<int:address_pk>/", views.address_edit, name="address_edit"),
    path(
        "<int:pk>/addresses/<int:address_pk>/delete/", views.address_delete, name="address_delete"
    ),
    path("<int:pk>/notes/", views.note_create, name="note_create"),
    path("<int:pk>/notes/<int:note_pk>/delete/", views.note_delete, name="note_delete"),
]
