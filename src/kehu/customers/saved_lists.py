"""Saved customer lists: a name for a set of filters, a search and an order,
kept as the list page's query string so the page, its API and its export
(a campaign's list of customers) all open it."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext as _

from kehu.accounts import roles
from kehu.core.changelog import Actor, diff, log_change, snapshot
from kehu.core.models import ChangeAction

from .filtersets import ORDERING_FIELDS, CustomerFilterSet
from .models import Customer, SavedList

NAME_LENGTH = 60
FIELDS = ["name", "shared", "query"]
# Parameters of the list page that are not part of what a list is.
PAGING_PARAMS = {"page", "page_size", "exact_count"}


def lists_for(user):
    """The lists ``user`` sees: their own and the shared ones."""
    return SavedList.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner")


def can_change(user, saved: SavedList) -> bool:
    return saved.owner_id == user.pk or roles.is_admin(user)


def query_dict(raw) -> QueryDict:
    """``raw`` as a query string or as {name: value or [values]}."""
    if isinstance(raw, str):
        return QueryDict(raw.lstrip("?"))
    if not isinstance(raw, dict):
        raise ValidationError({"query": [_("Send the filters as a query string or an object.")]})
    params = QueryDict(mutable=True)
    for name, value in raw.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
            raise ValidationError(
                {"query": [_("%(name)s: send text or numbers.") % {"name": name}]}
            )
        params.setlist(str(name), [str(v) for v in values])
    return params


def clean_query(raw, filterset: CustomerFilterSet | None = None) -> str:
    """The filters of ``raw`` checked as the list page checks them, in a
    stable order; refused with the filter and the reason. ``filterset``:
    one already bound to the same parameters."""
    params = query_dict(raw)
    if filterset is None:
        filterset = CustomerFilterSet(params, queryset=Customer.objects.none())
    known = set(filterset.filters) | {"ordering"}
    kept = QueryDict(mutable=True)
    errors = []
    for name in sorted(params):
        values = [v.strip() for v in params.getlist(name) if v.strip()]
        if name in PAGING_PARAMS or not values:
            continue
        if name not in known:
            errors.append(_("%(name)s: no such filter.") % {"name": name})
            continue
        kept.setlist(name, values)
    ordering = kept.get("ordering")
    if ordering is not None and ordering.lstrip("-") not in ORDERING_FIELDS:
        errors.append(_("ordering: no such order."))
    if not filterset.is_valid():
        for name, messages in filterset.errors.items():
            label = filterset.filters[name].label if name in filterset.filters else name
            errors.extend(f"{label}: {message}" for message in messages)
    if errors:
        raise ValidationError({"query": errors})
    for name in [n for n in kept if n != "ordering"]:
        # What the form reads as no choice ("unassigned=unknown") is no filter.
        if filterset.form.cleaned_data.get(name) in (None, "", [], ()):
            kept.pop(name)
    if not [name for name in kept if name != "ordering"]:
        raise ValidationError({"query": [_("Choose at least one filter or a search.")]})
    return kept.urlencode()


def clean_saved_list(data: dict, saved: SavedList | None) -> dict:
    cleaned, errors = {}, {}
    if saved is None or "name" in data:
        name = data.get("name")
        name = name.strip() if isinstance(name, str) else ""
        if not name:
            errors["name"] = [_("Give the list a name.")]
        elif len(name) > NAME_LENGTH:
            errors["name"] = [_("At most %(n)d characters.") % {"n": NAME_LENGTH}]
        cleaned["name"] = name
    if "shared" in data:
        shared = data["shared"]
        if isinstance(shared, str) and shared.lower() in ("true", "on", "1", "false", "0", ""):
            shared = shared.lower() in ("true", "on", "1")
        if not isinstance(shared, bool):
            errors["shared"] = [_("Send true or false.")]
        cleaned["shared"] = shared
    if saved is None or "query" in data:
        try:
            cleaned["query"] = clean_query(data.get("query", ""))
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return cleaned


def saved_list_save(*, actor: Actor, data: dict, saved: SavedList | None = None) -> SavedList:
    """Create a list for the actor, or change one they own (admins: any)."""
    if actor.user is None or not actor.user.is_authenticated:
        raise PermissionDenied(_("Sign in to save a list."))
    if saved is not None and not can_change(actor.user, saved):
        raise PermissionDenied(_("Only its owner may change this list."))
    cleaned = clean_saved_list(data, saved)
    target = saved or SavedList(owner=actor.user)
    if (
        SavedList.objects.filter(owner_id=target.owner_id, name=cleaned.get("name", target.name))
        .exclude(pk=target.pk)
        .exists()
    ):
        raise ValidationError({"name": [_("You already have a list with this name.")]})
    try:
        with transaction.atomic():
            before = snapshot(target, FIELDS) if saved else {}
            for field, value in cleaned.items():
                setattr(target, field, value)
            target.save()
            changes = diff(before, snapshot(target, FIELDS))
            action = ChangeAction.UPDATE if saved else ChangeAction.CREATE
            if changes:
                log_change(target, action, actor, changes)
    except IntegrityError as error:  # the same name saved at the same moment
        raise ValidationError({"name": [_("You already have a list with this name.")]}) from error
    return target


def saved_list_delete(*, actor: Actor, saved: SavedList) -> None:
    if actor.user is None or not can_change(actor.user, saved):
        raise PermissionDenied(_("Only its owner may delete this list."))
    with transaction.atomic():
        log_change(saved, ChangeAction.DELETE, actor, {"name": [saved.name, None]})
        saved.delete()
