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
    order_served: bool = False  # ``page`` walks an index that holds only this scope


def customers_for_list(user, owner_index_serves_order: bool = False) -> ListScope:
    """``owner_index_serves_order``: a rep's walking page may use an (owner, order)
    index, which finds the rep's rows in the page's order."""
    scope = roles.read_scope(user)
    q = scope_q(user, scope)
    if q is None:
        return ListScope(Customer.objects.all(), Customer.objects.all(), False)
    keep_index = scope == "own" and owner_index_serves_order
    walk = Customer.objects.filter(scope_q(user, scope, unindexed=not keep_index))
    return ListScope(walk, Customer.objects.filter(q), True, keep_index)


def customers_editable_by(user) -> QuerySet:
    return restrict(Customer.objects.all(), user, "change")


def customer_ids_editable_by(user, ids) -> set[int]:
    """Which of ``ids`` are live customers ``user`` may edit (any, for ``None``: the
    system), in one query however many."""
    customers = customers_editable_by(user) if user is not None else Customer.objects.all()
    ids = [int(pk) for pk in ids]
    return set(customers.filter(pk__in_array=ids).values_list("pk", flat=True)) if ids else set()


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
# Beyond this many, a term matches a good share of all customers.
DENSE_KEYS = 50_000


class SearchMatch(NamedTuple):
    q: Q
    few: bool = False  # resolved to at most SMALL_MATCH customer ids
    dense: bool = False  # a good share of all customers match


def search_term(term: str, walk: bool = False, memo: dict | None = None) -> SearchMatch:
    """Customers matching one search term.

    A rare term (a phone fragment, a full name) is resolved to its few customer
    ids first, so the page sorts a handful of rows. A common term (王, zh) stays a
    subquery; with ``walk``, one written to be probed row by row while the page
    walks its sort order (see ``probed``), else one the database may start from.
    """
    key = query_key(term)
    digits = phone_query_digits(key)
    if digits:
        key = digits
    keys = CustomerSearchKey.objects.filter(key_prefix_q(key))
    memo = {} if memo is None else memo
    if term not in memo:
        memo[term] = _term_sizes(keys, term)
    ids, dense, tag_ids = memo[term]
    few = len(ids) <= SMALL_MATCH
    if few:
        q = Q(pk__in=sorted(set(ids)))
    elif walk or dense:
        # Checked per customer: a walking page, or a count that finds its first
        # thousand among a few thousand customers ("zh" matches 300,000 of them).
        q = probed(CustomerSearchKey.objects.filter(key_prefix_q(key), customer_id=OuterRef("pk")))
    else:
        # Collected once, then joined: "wl" matches 8,500 customers, which a
        # count checking each customer in turn would look for among 120,000.
        q = Q(pk__in=keys.values("customer_id"))
    if tag_ids:
        q |= Exists(CustomerTag.objects.filter(customer_id=OuterRef("pk"), tag_id__in=tag_ids))
        few = False
    return SearchMatch(q, few, dense)


def _term_sizes(keys: QuerySet, term: str) -> tuple[list[int], bool, list[int]]:
    """A term's first SMALL_MATCH + 1 customer ids, whether it is dense, and the
    tags whose names contain it."""
    ids = list(keys.values_list("customer_id", flat=True)[: SMALL_MATCH + 1])
    dense = len(ids) > SMALL_MATCH and keys.order_by()[: DENSE_KEYS + 1].count() > DENSE_KEYS
    tag_ids = list(Tag.objects.filter(name__icontains=term).values_list("pk", flat=True)[:50])
    return ids, dense, tag_ids


def probed(rows: QuerySet) -> Q:
    """``EXISTS (rows)``, ``rows`` being correlated to the customer, written so that
    it is checked for each row of a page walking its sort order (an index probe,
    or one hash of the matches), rather than turned into a join that fetches every
    match and sorts them all: 8,500 customers for "wl" took 33 ms that way on
    PostgreSQL, 300,000 for "zh" far longer; probed, 3 and 11 ms. PostgreSQL only
    keeps an EXISTS that sits under an OR; no customer has the id 0."""
    q = Q(Exists(rows))
    if connection.vendor == "postgresql":
        q |= Q(pk=0)
    return q


def search_customers(queryset: QuerySet, text: str) -> QuerySet:
    """Every whitespace-separated term must match name, pinyin, initials, phone
    fragment, email, company, contact name or tag."""
    return queryset.filter(search_q(text).q)


# Words of a legal form, which names are not keyed by ("Evergreen Trading Co., Ltd.").
LEGAL_WORDS = {"co", "co.", "co.,", "ltd", "ltd.", "inc", "inc.", "llc", "gmbh", "corp", "corp."}


def search_q(text: str, walk: bool = False, memo: dict | None = None) -> SearchMatch:
    """The filter of ``search_customers``; ``few`` and ``dense`` as for the most
    telling term. ``memo`` keeps what the terms' lookups found, for a second call."""
    q = Q()
    few = dense = False
    text = strip_legal_suffix(clean_text(text).lower())
    terms = [t for t in text.split() if t.lower().strip(",") not in LEGAL_WORDS]
    for term in terms[:5]:
        if query_key(term):
            match = search_term(term, walk, memo)
            q &= match.q
            few, dense = few or match.few, dense or match.dense
    return SearchMatch(q, few, dense)


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


def customers_with_phone_or_email(phone: str = "", email: str = "") -> list[Customer]:
    """Live customers whose own phones or emails hold exactly ``phone`` (E.164) or
    ``email`` (normalised), found through the search keys, oldest first."""
    from kehu.core.normalize import phone_national_digits

    candidates: set[int] = set()
    if phone:
        digits = phone_national_digits(phone)
        keys = CustomerSearchKey.objects.filter(key_prefix_q(digits))
        candidates.update(keys.values_list("customer_id", flat=True)[:SMALL_MATCH])
    if email:
        keys = CustomerSearchKey.objects.filter(key_prefix_q(email.lower()))
        candidates.update(keys.values_list("customer_id", flat=True)[:SMALL_MATCH])
    found = Customer.objects.filter(pk__in=sorted(candidates)).order_by("pk")
    return [c for c in found if (phone and phone in c.phones) or (email and email in c.emails)]
