"""Reads of customers: the record-level permission rule and search, in one place."""

from typing import NamedTuple

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from kehu.accounts import roles
from kehu.core.normalize import clean_text
from kehu.core.pinyin import query_key, strip_legal_suffix

from .models import Address, Contact, Customer, CustomerSearchKey, CustomerTag, Note, Tag

PREFIX_END = "\U0010ffff"


def scope_q(user, scope: str, unindexed: bool = False) -> Q | None:
    """A filter for a record scope; ``None`` means everything.

    ``unindexed`` keeps SQLite from serving the scope by its index (see
    ``core.lookups``), for a scope too large to fetch and sort.
    """
    if scope == "all":
        return None
    lookup = "unindexed_in" if unindexed else "in"
    owned = Q(**{f"owner_id__{lookup}": [user.pk]})
    if scope == "team":
        if user.team_id is None:
            return owned
        return Q(**{f"team_id__{lookup}": [user.team_id]}) | owned
    if scope == "own":
        return owned
    return Q(pk__in=[])


def restrict(queryset: QuerySet, user, action: str = "view") -> QuerySet:
    scope = roles.read_scope(user) if action == "view" else roles.write_scope(user)
    q = scope_q(user, scope)
    return queryset if q is None else queryset.filter(q)


def customers_visible_to(user, include_deleted: bool = False) -> QuerySet:
    manager = Customer.all_objects if include_deleted else Customer.objects
    return restrict(manager.all(), user, "view")


class ListScope(NamedTuple):
    """The customers a user may see, written two ways: ``count`` lets the database
    use the owner and team indexes, ``page`` keeps them out of SQLite's reach so
    that it walks a page's sort order (see ``filtersets.plan_list``)."""

    page: QuerySet
    count: QuerySet
    restricted: bool  # only some customers (own, team)


def customers_for_list(user) -> ListScope:
    scope = roles.read_scope(user)
    q = scope_q(user, scope)
    if q is None:
        return ListScope(Customer.objects.all(), Customer.objects.all(), False)
    walk = Customer.objects.filter(scope_q(user, scope, unindexed=True))
    return ListScope(walk, Customer.objects.filter(q), True)


def customers_editable_by(user) -> QuerySet:
    return restrict(Customer.objects.all(), user, "change")


def can_view(user, customer: Customer) -> bool:
    q = scope_q(user, roles.read_scope(user))
    return q is None or Customer.all_objects.filter(q, pk=customer.pk).exists()


def can_edit(user, customer: Customer) -> bool:
    scope = roles.write_scope(user)
    if scope == "all":
        return True
    if scope == "team":
        return (user.team_id is not None and customer.team_id == user.team_id) or (
            customer.owner_id == user.pk
        )
    if scope == "own":
        return customer.owner_id == user.pk
    return False


def key_prefix_q(key: str) -> Q:
    if connection.vendor == "postgresql":
        # LIKE 'q%' uses the varchar_pattern_ops index whatever the collation.
        return Q(key__startswith=key)
    return Q(key__gte=key, key__lt=key + PREFIX_END)


def phone_query_digits(term: str) -> str | None:
    """Digits of a term typed as a phone fragment (+86 138-0013, (010) 1234), else None."""
    stripped = term.replace("+", "").replace("-", "").replace("(", "").replace(")", "")
    if not stripped.isdigit():
        return None
    digits = stripped
    if term.startswith("+86") or (digits.startswith("86") and len(digits) > 11):
        digits = digits[2:]
    if digits.startswith("0") and len(digits) >= 7:
        digits = digits[1:]
    return digits


# Up to this many matching keys, a term's customers are fetched as a list of ids.
SMALL_MATCH = 5000


def search_term_q(term: str) -> Q:
    return search_term(term)[0]


def search_term(term: str) -> tuple[Q, bool]:
    """Customers matching one search term.

    A rare term (a phone fragment, a full name) is resolved to its few customer
    ids first, so the page sorts a handful of rows. A common term (王, zh) stays a
    subquery, so the database can walk the sort order and stop at a page: given
    ``id IN (subquery) ORDER BY updated_at LIMIT 25``, both databases otherwise
    pick one plan for both cases, and PostgreSQL's pick took 3 s for "1234".
    """
    key = query_key(term)
    digits = phone_query_digits(key)
    if digits:
        key = digits
    keys = CustomerSearchKey.objects.filter(key_prefix_q(key))
    ids = list(keys.values_list("customer_id", flat=True)[: SMALL_MATCH + 1])
    small = len(ids) <= SMALL_MATCH
    q = Q(pk__in=sorted(set(ids))) if small else Q(pk__in=keys.values("customer_id"))
    tag_ids = list(Tag.objects.filter(name__icontains=term).values_list("pk", flat=True)[:50])
    if tag_ids:
        q |= Exists(CustomerTag.objects.filter(customer_id=OuterRef("pk"), tag_id__in=tag_ids))
        small = False
    return q, small


def search_customers(queryset: QuerySet, text: str) -> QuerySet:
    """Every whitespace-separated term must match name, pinyin, initials, phone
    fragment, email, company, contact name or tag."""
    return queryset.filter(search_q(text))


# Words of a legal form, which names are not keyed by ("Evergreen Trading Co., Ltd.").
LEGAL_WORDS = {"co", "co.", "co.,", "ltd", "ltd.", "inc", "inc.", "llc", "gmbh", "corp", "corp."}


def search_q(text: str) -> Q:
    """The filter of ``search_customers``."""
    q = Q()
    text = strip_legal_suffix(clean_text(text).lower())
    terms = [t for t in text.split() if t.lower().strip(",") not in LEGAL_WORDS]
    for term in terms[:5]:
        if query_key(term):
            q &= search_term(term)[0]
    return q


def customer_for_detail(user, pk: int) -> Customer:
    return (
        customers_visible_to(user)
        .select_related("owner", "team")
        .prefetch_related("tags")
        .get(pk=pk)
    )


def contacts_of(customer: Customer) -> QuerySet:
    return Contact.objects.filter(customer=customer)


def addresses_of(customer: Customer) -> QuerySet:
    return Address.objects.filter(customer=customer)


def notes_of(customer: Customer) -> QuerySet:
    return Note.objects.filter(customer=customer).select_related("author")
