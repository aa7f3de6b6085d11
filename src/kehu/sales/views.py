from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from kehu.core.changelog import history_for
from kehu.core.paging import CappedPaginator
from kehu.core.views import ui_actor
from kehu.customers import queries as customer_queries
from kehu.customers.presenters import change_rows

from . import queries, services
from .filtersets import OrderFilterSet, ProductFilterSet
from .models import Order, OrderStatus, PurchaseSummary

RECENT_ORDERS = 10


def customer_orders_panel(request, customer) -> dict:
    """The orders section of the customer 360 page (the page checked access)."""
    summary = PurchaseSummary.objects.filter(customer=customer).first()
    orders = list(
        Order.objects.filter(customer=customer)
        .annotate(line_count=Count("lines"))
        .order_by("-ordered_at", "-id")[:RECENT_ORDERS]
    )
    return {
        "summary": summary,
        "orders": orders,
        "more": len(orders) == RECENT_ORDERS,
        "customer_id": customer.pk,
    }


def orders_of_customer(customer):
    return Order.objects.filter(customer=customer)


def order_entry(order):
    from kehu.customers.timeline import Entry

    return Entry(
        "order",
        order.ordered_at,
        order.pk,
        f"{order.external_id} · {order.amount} {order.currency}",
        {
            "external_id": order.external_id,
            "amount": str(order.amount),
            "refunded_amount": str(order.refunded_amount),
            "currency": order.currency,
            "status": order.status,
        },
    )


# ---- pages ------------------------------------------------------------------------------

ORDERS_PER_PAGE = 50


def order_list(request):
    """Orders of the customers the user may see, newest first, with filters."""
    orders = (
        queries.orders_visible_to(request.user)
        .select_related("customer")
        .order_by("-ordered_at", "-id")
    )
    filters = OrderFilterSet(request.GET or None, queryset=orders)
    if filters.is_bound and filters.is_valid():
        orders = filters.qs
    elif filters.is_bound:
        for field, problems in filters.errors.items():
            messages.error(request, f"{field}: {' '.join(problems)}")
    page = CappedPaginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "sales/order_list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": OrderStatus.choices,
            "query": query.urlencode(),
        },
    )


def order_detail(request, pk):
    order = get_object_or_404(
        queries.orders_visible_to(request.user).select_related("customer"), pk=pk
    )
    return render(
        request,
        "sales/order_detail.html",
        {
            "order": order,
            "lines": order.lines.select_related("product"),
            "refunds": order.refunds.all(),
            "refundable": order.amount - order.refunded_amount,
            "can_edit": customer_queries.can_edit(request.user, order.customer),
            "history": change_rows(list(history_for(order)[:50]), model=Order),
        },
    )


def refund_create(request, pk):
    order = get_object_or_404(queries.orders_visible_to(request.user), pk=pk)
    data = {
        "amount": request.POST.get("amount", ""),
        "reason": request.POST.get("reason", ""),
        "is_return": bool(request.POST.get("is_return")),
    }
    try:
        services.refund_create(actor=ui_actor(request), order=order, data=data)
    except ValidationError as error:
        for problems in error.message_dict.values():
            messages.error(request, " ".join(problems))
    except PermissionDenied as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Refund recorded."))
    return redirect("sales:order", pk=order.pk)


def product_list(request):
    products = ProductFilterSet(request.GET or None, queryset=queries.products().order_by("sku"))
    rows = (
        products.qs
        if products.is_bound and products.is_valid()
        else queries.products().order_by("sku")
    )
    page = CappedPaginator(rows, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "sales/product_list.html", {"page": page, "query": query.urlencode()})
