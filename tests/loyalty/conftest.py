import pytest

from kehu.sales.models import Product


@pytest.fixture
def catalogue(admin_api):
    for sku, name, price in [("TEA-1", "龙井 250g", "88.00"), ("CUP-2", "茶杯", "19.90")]:
        response = admin_api.post(
            "/api/products/", {"sku": sku, "name": name, "list_price": price}, format="json"
        )
        assert response.status_code == 201, response.content
    return {p.sku: p for p in Product.objects.all()}


def order(external_id, customer, lines, **extra):
    return {
        "external_id": external_id,
        "customer": customer.pk,
        "ordered_at": "2026-03-01T10:00:00+08:00",
        "currency": "CNY",
        "lines": lines,
        **extra,
    }
