from django.contrib.auth.decorators import login_required
from django.urls import path
from django.views.decorators.http import require_POST

from . import views

app_name = "sales"
urlpatterns = [
    path("orders/", login_required(views.order_list), name="orders"),
    path("orders/<int:pk>/", login_required(views.order_detail), name="order"),
    path(
        "orders/<int:pk>/refunds/",
        require_POST(login_required(views.refund_create)),
        name="refund_create",
    ),
    path("products/", login_required(views.product_list), name="products"),
]
