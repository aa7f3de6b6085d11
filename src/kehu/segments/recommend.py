"""'Recommend next': products most often bought by customers who bought what
this customer bought, and not yet by them (item-to-item co-purchase).

Nightly, every pair of products bought by the same customer is counted, set-based
with Polars; each product keeps its ``NEIGHBOURS`` closest by cosine similarity
(customers who bought both over the geometric mean of each product's buyers,
so that best-sellers do not crowd out everything). For a customer, a candidate
scores the sum of its similarities to the products they bought."""

import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from django.db import connection, transaction
from scipy import sparse

from kehu.sales.models import Order, OrderLine, OrderStatus, Product

from .models import ProductNeighbour

NEIGHBOURS = 20
SHOWN = 5


def _pairs() -> pl.DataFrame:
    """Distinct (customer, product) of the orders that count."""
    sql = f"""
        SELECT DISTINCT o.customer_id, l.product_id
        FROM {OrderLine._meta.db_table} l JOIN {Order._meta.db_table} o ON o.id = l.order_id
        WHERE o.status <> %s AND o.deleted_at IS NULL
    """
    frames = []
    with connection.cursor() as cursor:
        cursor.execute(sql, [OrderStatus.CANCELLED.value])
        while rows := cursor.fetchmany(500_000):
            frames.append(
                pl.DataFrame(rows, schema={"customer": pl.Int64, "product": pl.Int64}, orient="row")
            )
    if not frames:
        return pl.DataFrame(schema={"customer": pl.Int64, "product": pl.Int64})
    return pl.concat(frames)


def neighbours(pairs: pl.DataFrame, keep: int = NEIGHBOURS) -> pl.DataFrame:
    """product, neighbour, together, similarity: each product's ``keep``
    closest others (ties by the neighbour's id). The co-purchase counts are
    the sparse product X'X of the customer × product matrix: a self-join of
    the pairs held 14 GB for the XL data set."""
    schema = {
        "product": pl.Int64,
        "neighbour": pl.Int64,
        "together": pl.Int64,
        "similarity": pl.Float64,
    }
    if pairs.is_empty():
        return pl.DataFrame(schema=schema)
    customers = pairs["customer"].rank(method="dense").cast(pl.Int64).to_numpy() - 1
    products, columns = np.unique(pairs["product"].to_numpy(), return_inverse=True)
    bought = sparse.csr_matrix(
        (np.ones(len(columns), dtype=np.int32), (customers, columns)),
        shape=(int(customers.max()) + 1, len(products)),
    )
    counts = (bought.T @ bought).tocoo()
    buyers = np.asarray(bought.sum(axis=0)).ravel()
    other = counts.row != counts.col
    rows, cols, together = counts.row[other], counts.col[other], counts.data[other]
    similarity = np.round(together / np.sqrt(buyers[rows] * buyers[cols]), 9)
    found = pl.DataFrame(
        {
            "product": products[rows],
            "neighbour": products[cols],
            "together": together.astype(np.int64),
            "similarity": similarity,
        },
        schema=schema,
    )
    return (
        found.sort(["product", "similarity", "neighbour"], descending=[False, True, False])
        .group_by("product", maintain_order=True)
        .head(keep)
    )


def rebuild() -> int:
    """Recount co-purchases and replace every product's neighbours; returns
    how many pairs are kept."""
    found = neighbours(_pairs())
    rows = [
        ProductNeighbour(product_id=p, neighbour_id=n, together=t, similarity=s)
        for p, n, t, s in found.iter_rows()
    ]
    with transaction.atomic():
        ProductNeighbour.objects.all().delete()
        ProductNeighbour.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


@dataclass
class Suggestion:
    product: Product
    score: float
    because: list[Product]  # what the customer bought that points here, closest first


def recommend_for(customer, limit: int = SHOWN) -> list[Suggestion]:
    """Active products the customer has not bought, by the summed similarity
    to the products they have."""
    owned = set(
        OrderLine.objects.filter(order__customer=customer)
        .exclude(order__status=OrderStatus.CANCELLED)
        .values_list("product_id", flat=True)
        .distinct()
    )
    if not owned:
        return []
    scores: dict[int, float] = {}
    because: dict[int, list[tuple[float, int]]] = {}
    for product_id, neighbour_id, similarity in ProductNeighbour.objects.filter(
        product_id__in=owned
    ).values_list("product_id", "neighbour_id", "similarity"):
        if neighbour_id in owned:
            continue
        scores[neighbour_id] = scores.get(neighbour_id, 0.0) + similarity
        because.setdefault(neighbour_id, []).append((similarity, product_id))
    products = Product.objects.in_bulk([pk for pk in scores])
    ranked = sorted(
        (pk for pk in scores if pk in products and products[pk].active),
        key=lambda pk: (-round(scores[pk], 9), pk),
    )[:limit]
    sources = Product.objects.in_bulk({p for pk in ranked for _s, p in because[pk]})
    return [
        Suggestion(
            products[pk],
            scores[pk],
            [sources[p] for _s, p in sorted(because[pk], key=lambda b: (-b[0], b[1]))[:2]],
        )
        for pk in ranked
        if not math.isnan(scores[pk])
    ]
