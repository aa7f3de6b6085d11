"""Every write of customers, contacts, notes and tags.

Each service validates, checks permission, writes the change log and bumps the
version in one transaction. The UI, the API, imports and automations call
these; nothing else writes these tables.
"""

import datetime

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.accounts import roles
from kehu.accounts.models import Team, User
from kehu.core.changelog import Actor, diff, history_for, log_change, snapshot
from kehu.core.errors import VersionConflict
from kehu.core.models import ChangeAction, ChangeLogEntry
from kehu.core.normalize import (
    clean_text,
    normalize_email,
    normalize_phone,
    phone_national_digits,
)
from kehu.core.pinyin import email_keys, minimal_keys, phone_keys, pinyin_full, text_keys

from . import queries
from .cleaning import EDITABLE_FIELDS, clean_customer_input, clean_phones
from .models import (
    Address,
    AddressKind,
    Contact,
    Customer,
    CustomerSearchKey,
    CustomerTag,
    Note,
    Tag,
)

CONTACT_FIELDS = ["name", "title", "phones", "email", "role", "is_primary"]


# ---- search keys ---------------------------------------------------------


def search_keys_for(customer: Customer, contacts: list[Contact] | None = None) -> list[str]:
    keys: set[str] = set()
    keys |= text_keys(customer.name)
    if customer.company_name:
        keys |= text_keys(customer.company_name)
    for phone in customer.phones:
        keys |= phone_keys(phone_national_digits(phone))
    for email in customer.emails:
        keys |= email_keys(email)
    if customer.credit_code:
        keys.add(customer.credit_code.lower())
    if contacts is None:
        contacts = list(Contact.objects.filter(customer=customer))
    for contact in contacts:
        keys |= text_keys(contact.name)
        for phone in contact.phones:
            keys |= phone_keys(phone_national_digits(phone))
        if contact.email:
            keys |= email_keys(contact.email)
    return minimal_keys(keys)


def refresh_search_keys(customer: Customer) -> None:
    CustomerSearchKey.objects.filter(customer=customer).delete()
    CustomerSearchKey.objects.bulk_create(
        CustomerSearchKey(customer=customer, key=k) for k in search_keys_for(customer)
    )


def sort_key(name: str) -> str:
    """Names sort by pinyin (张 among the z's), Latin names by themselves."""
    spelled = pinyin_full(name)
    return (spelled + " " + name.lower())[:200] if spelled else name.lower()[:200]


# ---- ownership -------------------------------------------------------------


def resolve_owner_and_team(actor: Actor, cleaned: dict, data: dict, instance=None) -> None:
    """Fill ``owner``/``team`` in ``cleaned`` from ``data``, enforcing who may assign whom."""
    user = actor.user
    errors = {}
    if "owner" in data:
        owner_id = data["owner"]
        if owner_id in (None, ""):
            cleaned["owner"] = None
        else:
            owner = User.objects.filter(pk=as_id(owner_id), is_active=True).first()
            if owner is None:
                errors["owner"] = [_("There is no active user with this id.")]
            else:
                cleaned["owner"] = owner
    if "team" in data:
        team_id = data["team"]
        if team_id in (None, ""):
            cleaned["team"] = None
        else:
            team = Team.objects.filter(pk=as_id(team_id)).first()
            if team is None:
                errors["team"] = [_("There is no team with this id.")]
            else:
                cleaned["team"] = team
    if errors:
        raise ValidationError(errors)
    # A rep's new customer is theirs; an admin or manager may leave it unassigned
    # only by saying so (owner: null).
    creating_unowned = instance is None and cleaned.get("owner") is None and user is not None
    if creating_unowned and ("owner" not in cleaned or roles.write_scope(user) == "own"):
        cleaned["owner"] = user
    owner = cleaned.get("owner", instance.owner if instance else None)
    if "owner" in cleaned and "team" not in cleaned and owner is not None:
        cleaned["team"] = owner.team
    if user is None:  # system and import jobs run with full rights
        return
    scope = roles.write_scope(user)
    changes_owner = "owner" in cleaned and (instance is None or cleaned["owner"] != instance.owner)
    changes_team = "team" in cleaned and (instance is None or cleaned["team"] != instance.team)
    if scope == "own":
        if changes_owner and cleaned["owner"] != user:
            raise ValidationError({"owner": [_("You may only assign customers to yourself.")]})
        if changes_team and cleaned["team"] not in (None, user.team):
            raise ValidationError({"team": [_("You may only use your own team.")]})
    elif scope == "team":
        new_owner = cleaned.get("owner")
        if changes_owner and new_owner is not None and new_owner.team_id != user.team_id:
            raise ValidationError({"owner": [_("You may only assign customers within your team.")]})
        if changes_team and cleaned["team"] is not None and cleaned["team"].pk != user.team_id:
            raise ValidationError({"team": [_("You may only use your own team.")]})


def as_id(value) -> int:
    """An id sent as a number, digits or a record; -1 for anything else."""
    if isinstance(value, int | str) and str(value).isdigit():
        return int(value)
    if hasattr(value, "pk"):
        return value.pk
    return -1


def _set_tags(customer: Customer, names: list[str]) -> None:
    existing = {t.name: t for t in Tag.objects.filter(name__in=names)}
    for name in names:
        if name not in existing:
            existing[name], _created = Tag.objects.get_or_create(name=name)
    wanted = {existing[n].pk for n in names}
    current = set(CustomerTag.objects.filter(customer=customer).values_list("tag_id", flat=True))
    CustomerTag.objects.filter(customer=customer, tag_id__in=current - wanted).delete()
    CustomerTag.objects.bulk_create(
        CustomerTag(customer=customer, tag_id=t) for t in wanted - current
    )


def _tag_names(customer: Customer) -> list[str]:
    return sorted(CustomerTag.objects.filter(customer=customer).values_list("tag__name", flat=True))


# ---- customers -------------------------------------------------------------


def customer_create(*, actor: Actor, data: dict) -> Customer:
    """Create a customer from loosely typed ``data``; returns the saved record."""
    if actor.user is not None and not roles.can_create_customers(actor.user):
        raise PermissionDenied(_("Your role may not create customers."))
    cleaned = clean_customer_input(data)
    resolve_owner_and_team(actor, cleaned, data)
    tags = cleaned.pop("tags", None)
    with transaction.atomic():
        customer = Customer(**cleaned)
        customer.name_sort = sort_key(customer.name)
        customer.save()
        if tags:
            _set_tags(customer, tags)
        refresh_search_keys(customer)
        after = snapshot(customer, EDITABLE_FIELDS)
        after = {k: v for k, v in after.items() if v not in ("", None, [], {})}
        if tags:
            after["tags"] = sorted(tags)
        log_change(customer, ChangeAction.CREATE, actor, {k: [None, v] for k, v in after.items()})
    return customer


def customer_update(*, actor: Actor, customer: Customer, data: dict, version) -> Customer:
    """Apply a partial update. ``version`` is the version the editor read; a stale
    one raises VersionConflict naming the fields changed since."""
    if actor.user is not None and not queries.can_edit(actor.user, customer):
        raise PermissionDenied(_("You may not edit this customer."))
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise ValidationError({"version": [_("Send the version you last read.")]}) from None
    cleaned = clean_customer_input(data, instance=customer)
    resolve_owner_and_team(actor, cleaned, data, instance=customer)
    tags = cleaned.pop("tags", None)
    with transaction.atomic():
        current = Customer.objects.select_for_update().get(pk=customer.pk)
        if current.version != version:
            raise VersionConflict(current.version, fields_changed_since(current, version))
        before = snapshot(current, EDITABLE_FIELDS)
        before_tags = _tag_names(current)
        for field, value in cleaned.items():
            setattr(current, field, value)
        changes = diff(before, snapshot(current, EDITABLE_FIELDS))
        if tags is not None and sorted(tags) != before_tags:
            _set_tags(current, tags)
            changes["tags"] = [before_tags, sorted(tags)]
        if not changes:
            return current
        current.version += 1
        current.updated_at = timezone.now()
        current.name_sort = sort_key(current.name)
        current.save()
        if changes.keys() & {"name", "company_name", "phones", "emails", "credit_code"}:
            refresh_search_keys(current)
        log_change(current, ChangeAction.UPDATE, actor, changes)
    return current


def fields_changed_since(customer: Customer, version: int) -> list[str]:
    """Fields the customer's own change log entries touched after ``version``."""
    entries = ChangeLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=customer.pk,
        version__gt=version,
    )
    fields: set[str] = set()
    for changes in entries.values_list("changes", flat=True):
        fields.update(changes.keys())
    return sorted(fields)


def customer_delete(*, actor: Actor, customer: Customer) -> None:
    """Soft delete: the record moves to the recycle bin."""
    if actor.user is not None and not queries.can_edit(actor.user, customer):
        raise PermissionDenied(_("You may not delete this customer."))
    with transaction.atomic():
        current = Customer.objects.select_for_update().get(pk=customer.pk)
        current.deleted_at = timezone.now()
        current.deleted_by = actor.user if getattr(actor.user, "pk", None) else None
        current.version += 1
        current.save(update_fields=["deleted_at", "deleted_by", "version"])
        log_change(current, ChangeAction.DELETE, actor)


def customer_restore(*, actor: Actor, customer: Customer) -> Customer:
    if actor.user is not None and not (
        roles.can_view_recycle_bin(actor.user) and queries.can_edit(actor.user, customer)
    ):
        raise PermissionDenied(_("You may not restore this customer."))
    with transaction.atomic():
        current = Customer.all_objects.select_for_update().get(pk=customer.pk)
        if current.deleted_at is None:
            return current
        current.deleted_at = None
        current.deleted_by = None
        current.version += 1
        current.updated_at = timezone.now()
        current.save(update_fields=["deleted_at", "deleted_by", "version", "updated_at"])
        log_change(current, ChangeAction.RESTORE, actor)
    return current


def customers_purge(*, actor: Actor, older_than_days: int, now=None) -> int:
    """Hard-delete customers that have been in the recycle bin longer than the retention.

    The change log keeps each purged record's last state, so a purge is still
    accounted for. A customer with orders stays: its orders must not lose it.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=older_than_days)
    purged = 0
    doomed = Customer.all_objects.filter(deleted_at__lt=cutoff).order_by("pk")
    for customer in doomed.iterator(chunk_size=500):
        try:
            with transaction.atomic():
                last = snapshot(customer, EDITABLE_FIELDS)
                changes = {k: [v, None] for k, v in last.items()}
                log_change(customer, ChangeAction.PURGE, actor, changes)
                customer.delete()
        except ProtectedError:
            continue  # orders (business records of their own) keep it in the bin
        purged += 1
    return purged


def customers_bulk_tag(*, actor: Actor, customer_ids: list[int], add=(), remove=()) -> int:
    """Add and/or remove tags on many customers; only those the actor may edit."""
    add = [clean_text(n)[:50] for n in add if clean_text(n)]
    remove = [clean_text(n) for n in remove if clean_text(n)]
    changed = 0
    with transaction.atomic():
        editable = _editable_subset(actor, customer_ids)
        add_tags = [Tag.objects.get_or_create(name=n)[0] for n in add]
        remove_ids = list(Tag.objects.filter(name__in=remove).values_list("pk", flat=True))
        for customer in editable:
            before = _tag_names(customer)
            for tag in add_tags:
                CustomerTag.objects.get_or_create(customer=customer, tag=tag)
            CustomerTag.objects.filter(customer=customer, tag_id__in=remove_ids).delete()
            after = _tag_names(customer)
            if after != before:
                _touch(customer)
                log_change(customer, ChangeAction.UPDATE, actor, {"tags": [before, after]})
                changed += 1
    return changed


def customers_bulk_reassign(*, actor: Actor, customer_ids: list[int], owner_id) -> int:
    changed = 0
    with transaction.atomic():
        for customer in _editable_subset(actor, customer_ids):
            before = snapshot(customer, ["owner", "team"])
            cleaned: dict = {}
            resolve_owner_and_team(actor, cleaned, {"owner": owner_id}, instance=customer)
            for field, value in cleaned.items():
                setattr(customer, field, value)
            changes = diff(before, snapshot(customer, ["owner", "team"]))
            if changes:
                customer.version += 1
                customer.updated_at = timezone.now()
                customer.save(update_fields=["owner", "team", "version", "updated_at"])
                log_change(customer, ChangeAction.UPDATE, actor, changes)
                changed += 1
    return changed


def _editable_subset(actor: Actor, customer_ids) -> list[Customer]:
    ids = [i for i in (as_id(c) for c in customer_ids) if i > 0]
    qs = Customer.objects.filter(pk__in=ids).select_for_update()
    if actor.user is not None:
        qs = queries.restrict(qs, actor.user, "change")
    return list(qs.order_by("pk"))


def _touch(customer: Customer) -> None:
    Customer.objects.filter(pk=customer.pk).update(
        version=customer.version + 1, updated_at=timezone.now()
    )
    customer.version += 1


# ---- tags ------------------------------------------------------------------

TAG_FIELDS = ["name", "color"]


def clean_tag_input(data: dict, instance: Tag | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    if "name" in data or instance is None:
        name = clean_text(data.get("name"))
        if not name or len(name) > 50:
            errors["name"] = [_("Enter a tag name of at most 50 characters.")]
        elif Tag.objects.filter(name=name).exclude(pk=getattr(instance, "pk", None)).exists():
            errors["name"] = [_("A tag with this name exists.")]
        else:
            cleaned["name"] = name
    if data.get("color"):
        color = clean_text(data["color"]).lower()
        if (
            len(color) != 7
            or color[0] != "#"
            or any(c not in "0123456789abcdef" for c in color[1:])
        ):
            errors["color"] = [_("Enter a colour as #rrggbb.")]
        else:
            cleaned["color"] = color
    if errors:
        raise ValidationError(errors)
    return cleaned


def _require_admin(actor: Actor) -> None:
    if actor.user is not None and not roles.is_admin(actor.user):
        raise PermissionDenied(_("Only administrators may change tags."))


def tag_update(*, actor: Actor, tag: Tag, data: dict) -> Tag:
    """Rename or recolour a tag; every customer carrying it shows the new name."""
    _require_admin(actor)
    cleaned = clean_tag_input(data, tag)
    with transaction.atomic():
        before = snapshot(tag, TAG_FIELDS)
        for field, value in cleaned.items():
            setattr(tag, field, value)
        changes = diff(before, snapshot(tag, TAG_FIELDS))
        if changes:
            tag.save()
            log_change(tag, ChangeAction.UPDATE, actor, changes)
    return tag


def tag_delete(*, actor: Actor, tag: Tag) -> None:
    """Delete an unused tag. A tag in use is removed from customers first (bulk
    untag), so that each customer's history records it."""
    _require_admin(actor)
    if CustomerTag.objects.filter(tag=tag).exists():
        raise ValidationError(
            {"name": [_("Customers still carry this tag; remove it from them first.")]}
        )
    with transaction.atomic():
        log_change(tag, ChangeAction.DELETE, actor, {"name": [tag.name, None]})
        tag.delete()


# ---- contacts --------------------------------------------------------------


def clean_contact_input(data: dict, instance: Contact | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    for field, max_length in (("name", 100), ("title", 100), ("role", 100)):
        if field in data:
            text = clean_text(data[field])
            if len(text) > max_length:
                errors[field] = [_("At most %(n)s characters.") % {"n": max_length}]
            cleaned[field] = text
    if not cleaned.get("name", instance.name if instance else ""):
        errors["name"] = [_("A contact needs a name.")]
    if "phones" in data:
        try:
            cleaned["phones"] = clean_phones(data["phones"])
        except ValidationError as exc:
            errors["phones"] = exc.messages
    if "email" in data:
        if data["email"] in (None, ""):
            cleaned["email"] = ""
        else:
            try:
                cleaned["email"] = normalize_email(str(data["email"]))
            except ValidationError as exc:
                errors["email"] = exc.messages
    if "is_primary" in data:
        value = data["is_primary"]
        cleaned["is_primary"] = value in (True, "true", "on", "1", 1, "True")
    if errors:
        raise ValidationError(errors)
    return cleaned


def _check_customer_editable(actor: Actor, customer: Customer) -> None:
    if actor.user is not None and not queries.can_edit(actor.user, customer):
        raise PermissionDenied(_("You may not edit this customer."))


def _child_create(actor: Actor, customer: Customer, model, cleaned: dict, fields, after=None):
    """Create a record that belongs to a customer; logged on the customer's history."""
    _check_customer_editable(actor, customer)
    with transaction.atomic():
        record = model.objects.create(customer=customer, **cleaned)
        if after:
            after(record)
        values = {k: v for k, v in snapshot(record, fields).items() if v not in ("", None, [])}
        log_change(
            record, ChangeAction.CREATE, actor, {k: [None, v] for k, v in values.items()}, customer
        )
    return record


def _child_update(actor: Actor, record, cleaned: dict, fields, version, after=None):
    """Apply ``cleaned`` to a customer's record; a stale ``version`` raises VersionConflict."""
    _check_customer_editable(actor, record.customer)
    with transaction.atomic():
        current = type(record).objects.select_for_update().get(pk=record.pk)
        if version is not None and str(current.version) != str(version):
            raise VersionConflict(current.version)
        before = snapshot(current, fields)
        for field, value in cleaned.items():
            setattr(current, field, value)
        changes = diff(before, snapshot(current, fields))
        if changes:
            current.version += 1
            current.updated_at = timezone.now()
            current.save()
            if after:
                after(current)
            log_change(current, ChangeAction.UPDATE, actor, changes, current.customer)
    return current


def _child_delete(actor: Actor, record, fields, after=None) -> None:
    """Soft delete; the log keeps the record's last values."""
    _check_customer_editable(actor, record.customer)
    with transaction.atomic():
        record.deleted_at = timezone.now()
        record.deleted_by = actor.user if getattr(actor.user, "pk", None) else None
        record.version += 1
        record.save(update_fields=["deleted_at", "deleted_by", "version"])
        if after:
            after(record)
        last = {
            k: [v, None] for k, v in snapshot(record, fields).items() if v not in ("", None, [])
        }
        log_change(record, ChangeAction.DELETE, actor, last, record.customer)


def _after_contact_write(contact: Contact) -> None:
    if contact.is_primary and contact.deleted_at is None:
        Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).exclude(
            pk=contact.pk
        ).update(is_primary=False)
    refresh_search_keys(contact.customer)


def contact_create(*, actor: Actor, customer: Customer, data: dict) -> Contact:
    cleaned = clean_contact_input(data)
    return _child_create(actor, customer, Contact, cleaned, CONTACT_FIELDS, _after_contact_write)


def contact_update(*, actor: Actor, contact: Contact, data: dict, version) -> Contact:
    cleaned = clean_contact_input(data, instance=contact)
    return _child_update(actor, contact, cleaned, CONTACT_FIELDS, version, _after_contact_write)


def contact_delete(*, actor: Actor, contact: Contact) -> None:
    _child_delete(actor, contact, CONTACT_FIELDS, _after_contact_write)


# ---- addresses -------------------------------------------------------------

ADDRESS_FIELDS = [
    "kind",
    "country",
    "province",
    "city",
    "district",
    "street",
    "postal_code",
    "recipient",
    "phone",
]
ADDRESS_TEXT = {
    "country": 2,
    "province": 50,
    "city": 50,
    "district": 50,
    "street": 200,
    "postal_code": 12,
    "recipient": 100,
}


def clean_address_input(data: dict, instance: Address | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    for field, max_length in ADDRESS_TEXT.items():
        if field in data:
            text = clean_text(data[field])
            if len(text) > max_length:
                errors[field] = [_("At most %(n)s characters.") % {"n": max_length}]
            cleaned[field] = text.upper() if field == "country" else text
    if "kind" in data:
        if data["kind"] not in AddressKind.values:
            errors["kind"] = [_("“%(value)s” is not a valid choice.") % {"value": data["kind"]}]
        else:
            cleaned["kind"] = data["kind"]
    if data.get("phone") not in (None, ""):
        try:
            cleaned["phone"] = normalize_phone(str(data["phone"]))
        except ValidationError as exc:
            errors["phone"] = exc.messages
    elif "phone" in data:
        cleaned["phone"] = ""

    def current(field):
        return cleaned.get(field, getattr(instance, field, "") if instance else "")

    if not any(current(f) for f in ("province", "city", "district", "street")):
        errors.setdefault("street", []).append(_("An address needs at least a city or a street."))
    if errors:
        raise ValidationError(errors)
    return cleaned


def address_create(*, actor: Actor, customer: Customer, data: dict) -> Address:
    return _child_create(actor, customer, Address, clean_address_input(data), ADDRESS_FIELDS)


def address_update(*, actor: Actor, address: Address, data: dict, version) -> Address:
    cleaned = clean_address_input(data, instance=address)
    return _child_update(actor, address, cleaned, ADDRESS_FIELDS, version)


def address_delete(*, actor: Actor, address: Address) -> None:
    _child_delete(actor, address, ADDRESS_FIELDS)


# ---- notes -----------------------------------------------------------------


def clean_note_body(value) -> str:
    body = str(value or "").replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError({"body": [_("A note cannot be empty.")]})
    if len(body) > 10000:
        raise ValidationError({"body": [_("A note has at most 10000 characters.")]})
    return body


def note_create(*, actor: Actor, customer: Customer, body) -> Note:
    if actor.user is not None and not (
        queries.can_edit(actor.user, customer) or roles.effective_role(actor.user) == "support"
    ):
        raise PermissionDenied(_("You may not add notes to this customer."))
    text = clean_note_body(body)
    with transaction.atomic():
        note = Note.objects.create(customer=customer, author=actor.user, body=text)
        log_change(note, ChangeAction.CREATE, actor, {"body": [None, text]}, customer)
    return note


def note_update(*, actor: Actor, note: Note, body) -> Note:
    if actor.user is not None and not (
        note.author_id == actor.user.pk or roles.is_admin(actor.user)
    ):
        raise PermissionDenied(_("Only the author may edit a note."))
    text = clean_note_body(body)
    with transaction.atomic():
        if text != note.body:
            changes = {"body": [note.body, text]}
            note.body = text
            note.version += 1
            note.updated_at = timezone.now()
            note.save()
            log_change(note, ChangeAction.UPDATE, actor, changes, note.customer)
    return note


def note_delete(*, actor: Actor, note: Note) -> None:
    if actor.user is not None and not (
        note.author_id == actor.user.pk or queries.can_edit(actor.user, note.customer)
    ):
        raise PermissionDenied(_("You may not delete this note."))
    with transaction.atomic():
        note.deleted_at = timezone.now()
        note.deleted_by = actor.user if getattr(actor.user, "pk", None) else None
        note.save(update_fields=["deleted_at", "deleted_by"])
        log_change(note, ChangeAction.DELETE, actor, {"body": [note.body, None]}, note.customer)


def history_entries(customer: Customer):
    return history_for(customer)


def user_who_may_see(value, customer: Customer) -> User:
    """The active user with id ``value`` who may see ``customer`` (an assignee of a
    task or ticket); ValueError with a localised message otherwise."""
    user = User.objects.filter(pk=as_id(value), is_active=True).first()
    if user is None:
        raise ValueError(_("There is no active user with this id."))
    if not queries.can_view(user, customer):
        raise ValueError(_("This user may not see the customer."))
    return user
