from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from kehu.accounts import roles
from kehu.accounts.models import User
from kehu.core import services as core_services
from kehu.core.changelog import history_for
from kehu.core.custom_fields import definitions_for
from kehu.core.errors import VersionConflict
from kehu.core.models import CustomFieldDefinition
from kehu.core.paging import COUNT_CAP, CappedPaginator
from kehu.core.views import ui_actor

from . import panels, queries, saved_lists, services, timeline
from .exports import customer_csv_rows
from .filtersets import ORDERING_FIELDS, CustomerFilterSet, index_serves, plan_list
from .forms import (
    AddressForm,
    ContactForm,
    CustomerForm,
    CustomFieldForm,
    NoteForm,
    initial_from_customer,
)
from .models import Address, Contact, Customer, Note, Tag
from .presenters import ValueFormatter, change_rows, field_label

PAGE_SIZES = (25, 50, 100)


# What a row of the list shows: decoding every JSON and text column of 25 customers
# cost more than the query that found them.
LIST_ROW_FIELDS = (
    "id",
    "kind",
    "name",
    "phones",
    "company_name",
    "city",
    "status",
    "updated_at",
    "owner_id",
)


def list_rows(customers):
    # Owners come in a query of their own: joined, they let SQLite start from the
    # users table and reach customers through an owner index, sorting 40,000 rows.
    owners = User.objects.only("id", "username", "first_name", "last_name")
    return customers.only(*LIST_ROW_FIELDS).prefetch_related(
        Prefetch("owner", queryset=owners),
        Prefetch("tags", queryset=Tag.objects.only("id", "name", "color")),
    )


@login_required
def customer_list(request):
    filterset = CustomerFilterSet(request.GET or None, queryset=Customer.objects.none())
    ordering = request.GET.get("ordering") or "-updated_at"
    scope = queries.customers_for_list(request.user, index_serves("owner_id", ordering))
    plan = plan_list(filterset, scope, ordering, list_rows)
    try:
        page_size = int(request.GET.get("page_size", 25))
    except ValueError:
        page_size = 25
    page_size = page_size if page_size in PAGE_SIZES else 25
    exact = request.GET.get("exact_count") == "1"
    paginator = CappedPaginator(
        plan.page,
        page_size,
        count_cap=None if exact else COUNT_CAP,
        count_queryset=plan.count,
        known_count=None if exact else plan.count_up_to(COUNT_CAP),
    )
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    lists = list(saved_lists.lists_for(request.user))
    shown_query = _list_query(request.GET, filterset)
    context = {
        "saved_lists": [
            {"list": s, "can_change": saved_lists.can_change(request.user, s)} for s in lists
        ],
        "current_list": next((s for s in lists if s.query == shown_query), None),
        "list_query": shown_query,
        "active_filters": active_filters(filterset, request.GET),
        "filterset": filterset,
        "page": page,
        "paginator": paginator,
        "ordering": ordering,
        "sortable": list(ORDERING_FIELDS),
        "query": query.urlencode(),
        "query_without_ordering": _without(query, "ordering"),
        "can_bulk_edit": roles.write_scope(request.user) != "none",
        "can_reassign": roles.can_assign_owner(request.user),
        "owners": _assignable_owners(request.user),
        "can_create": roles.can_create_customers(request.user),
        "custom_definitions": filterset.custom_definitions,
    }
    template = "customers/customer_list.html"
    if request.htmx and not request.htmx.boosted:
        template += "#results"
    return render(request, template, context)


def _list_query(params, filterset) -> str:
    """The page's query as a saved list keeps it ("" when it is not one)."""
    try:
        return saved_lists.clean_query(params, filterset)
    except ValidationError:
        return ""


@require_POST
@login_required
def saved_list_create(request):
    """Save the filters, search and order of the list page under a name."""
    try:
        saved = saved_lists.saved_list_save(
            actor=ui_actor(request),
            data={
                "name": request.POST.get("name", ""),
                "shared": request.POST.get("shared") == "on",
                "query": request.POST.get("query", ""),
            },
        )
    except ValidationError as error:
        for messages_ in error.message_dict.values():
            for message in messages_:
                messages.error(request, message)
        return redirect(f"{reverse('customers:list')}?{request.POST.get('query', '')}")
    messages.success(request, _("Saved the list “%(name)s”.") % {"name": saved.name})
    return redirect(f"{reverse('customers:list')}?{saved.query}")


@require_POST
@login_required
def saved_list_delete(request, pk):
    saved = get_object_or_404(saved_lists.lists_for(request.user), pk=pk)
    saved_lists.saved_list_delete(actor=ui_actor(request), saved=saved)
    messages.success(request, _("Deleted the list “%(name)s”.") % {"name": saved.name})
    return redirect("customers:list")


# Parameters that are not filters shown as chips.
NON_FILTER_PARAMS = {"search", "ordering", "page", "page_size"}


def active_filters(filterset, params) -> list[dict]:
    """The filters in use, for chips and hidden inputs, without rendering the filter form
    (rendering thirty widgets costs more than the query behind the page)."""
    chips = []
    formatter = ValueFormatter()
    for name in params:
        for value in params.getlist(name):
            if name in ("owner", "team") and value.isdigit():
                formatter.note(name, int(value))
    formatter.load()
    for name in params:
        if name in NON_FILTER_PARAMS or name not in filterset.filters:
            continue
        for value in params.getlist(name):
            if value == "":
                continue
            remaining = params.copy()
            remaining.setlist(name, [v for v in params.getlist(name) if v != value])
            remaining.pop("page", None)
            label = filterset.filters[name].label or name
            choices = filterset.filters[name].extra.get("choices")
            if isinstance(choices, list):  # choices that are data (segments, dimensions)
                shown = str(dict(choices).get(value, value))
            else:
                shown = formatter.format(
                    name, int(value) if value.isdigit() and name in ("owner", "team") else value
                )
            chips.append(
                {
                    "name": name,
                    "label": label,
                    "value": value,
                    "shown": shown,
                    "remove": remaining.urlencode(),
                }
            )
    return chips


@login_required
def customer_filters(request):
    """The filter panel, loaded when the user opens it."""
    filterset = CustomerFilterSet(
        request.GET or None, queryset=Customer.objects.none(), every_filter=True
    )
    return render(request, "customers/customer_list.html#filter-fields", {"filterset": filterset})


def _without(query, key):
    copy = query.copy()
    copy.pop(key, None)
    return copy.urlencode()


def _assignable_owners(user):
    owners = (
        User.objects.filter(is_active=True)
        .order_by("username")
        .only("id", "username", "first_name", "last_name")
    )
    if roles.is_admin(user):
        return owners
    if roles.can_assign_owner(user):
        return owners.filter(team_id=user.team_id)
    return owners.none()


@login_required
def customer_export(request):
    """The list as CSV, with the filters, search and ordering of the page."""
    filterset = CustomerFilterSet(request.GET or None, queryset=Customer.objects.none())
    plan = plan_list(
        filterset,
        queries.customers_for_list(
            request.user, index_serves("owner_id", request.GET.get("ordering"))
        ),
        request.GET.get("ordering"),
        lambda customers: customers.select_related("owner", "team").prefetch_related("tags"),
    )
    response = StreamingHttpResponse(customer_csv_rows(plan.page), content_type="text/csv")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.csv"'
    return response


@require_POST
@login_required
def customer_bulk(request):
    ids = [i for i in request.POST.getlist("ids") if i.isdigit()]
    action = request.POST.get("action")
    if not ids:
        messages.warning(request, _("Select at least one customer."))
        return redirect(request.POST.get("next") or "customers:list")
    try:
        if action == "tag":
            names = [t for t in request.POST.get("tag", "").split(",") if t.strip()]
            if not names:
                raise ValidationError(_("Enter a tag."))
            n = services.customers_bulk_tag(actor=ui_actor(request), customer_ids=ids, add=names)
            messages.success(
                request, ngettext("Tagged %(n)s customer.", "Tagged %(n)s customers.", n) % {"n": n}
            )
        elif action == "untag":
            names = [t for t in request.POST.get("tag", "").split(",") if t.strip()]
            n = services.customers_bulk_tag(actor=ui_actor(request), customer_ids=ids, remove=names)
            messages.success(
                request,
                ngettext(
                    "Removed the tag from %(n)s customer.",
                    "Removed the tag from %(n)s customers.",
                    n,
                )
                % {"n": n},
            )
        elif action == "reassign":
            if not roles.can_assign_owner(request.user):
                raise PermissionDenied
            n = services.customers_bulk_reassign(
                actor=ui_actor(request), customer_ids=ids, owner_id=request.POST.get("owner")
            )
            messages.success(
                request,
                ngettext("Reassigned %(n)s customer.", "Reassigned %(n)s customers.", n) % {"n": n},
            )
        else:
            messages.error(request, _("Choose an action."))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    next_url = request.POST.get("next") or ""
    if next_url.startswith("/") and not next_url.startswith("//"):
        return redirect(next_url)
    return redirect("customers:list")


@login_required
def customer_detail(request, pk):
    try:
        customer = queries.customer_for_detail(request.user, pk)
    except Customer.DoesNotExist:
        raise Http404 from None
    history = change_rows(list(history_for(customer)[:50]))
    definitions = definitions_for(customer.kind)
    custom_values = [
        (d, customer.custom_fields.get(d.key))
        for d in definitions
        if d.key in customer.custom_fields
    ]
    context = {
        "customer": customer,
        "contacts": list(queries.contacts_of(customer)),
        "addresses": list(queries.addresses_of(customer)),
        "notes": list(queries.notes_of(customer)[:50]),
        "history": history,
        "custom_values": custom_values,
        "can_edit": queries.can_edit(request.user, customer),
        "can_note": queries.can_edit(request.user, customer)
        or roles.effective_role(request.user) == "support",
        "note_form": NoteForm(),
        "contact_form": ContactForm(),
        "panels": panels.panels_for(request, customer),
    }
    return render(request, "customers/customer_detail.html", context)


TIMELINE_LABELS = {
    "change": _lazy("Changes"),
    "event": _lazy("Behaviour"),
    "interaction": _lazy("Interactions"),
    "order": _lazy("Orders"),
    "points": _lazy("Points"),
    "task": _lazy("Follow-ups"),
    "ticket": _lazy("Tickets"),
}


@login_required
def customer_timeline(request, pk):
    """A page of the 360 timeline, loaded by htmx; ``kind`` filters, ``cursor`` pages."""
    customer = get_object_or_404(queries.customers_visible_to(request.user), pk=pk)
    kind = request.GET.get("kind", "")
    wanted = [kind] if kind in timeline.kinds() else None
    cursor = None
    if request.GET.get("cursor"):
        try:
            cursor = timeline.Cursor.decode(request.GET["cursor"])
        except ValueError:
            cursor = None
    entries, next_cursor = timeline.page(customer, wanted, 30, cursor)
    context = {
        "customer": customer,
        "entries": [(e, TIMELINE_LABELS.get(e.kind, e.kind)) for e in entries],
        "kind": kind if wanted else "",
        "kinds": [(k, TIMELINE_LABELS.get(k, k)) for k in timeline.kinds()],
        "next_cursor": next_cursor.encode() if next_cursor else None,
    }
    template = "customers/timeline.html"
    if cursor is not None:
        template += "#entries"
    return render(request, template, context)


@login_required
def customer_create(request):
    if not roles.can_create_customers(request.user):
        raise PermissionDenied
    form = CustomerForm(
        request.POST or None,
        user=request.user,
        initial={
            "status": "lead",
            "country": "CN",
            "owner": request.user.pk,
            "team": request.user.team_id,
            "revenue_currency": "CNY",
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            customer = services.customer_create(actor=ui_actor(request), data=form.service_data())
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("Customer “%(name)s” created.") % {"name": customer.name})
            return redirect("customers:detail", pk=customer.pk)
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "creating": True, **kind_field_groups()},
    )


@login_required
def customer_edit(request, pk):
    customer = get_object_or_404(queries.customers_visible_to(request.user), pk=pk)
    if not queries.can_edit(request.user, customer):
        raise PermissionDenied
    conflict = None
    if request.method == "POST":
        form = CustomerForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                services.customer_update(
                    actor=ui_actor(request),
                    customer=customer,
                    data=form.service_data(),
                    version=form.cleaned_data.get("version"),
                )
            except ValidationError as exc:
                form.add_service_errors(exc)
            except VersionConflict as exc:
                customer.refresh_from_db()
                conflict = {
                    "message": str(exc),
                    "fields": [field_label(f) for f in exc.changed_fields],
                    "current": customer,
                    "version": exc.current_version,
                }
                # The editor keeps their input; saving again applies it over the new version.
                data = request.POST.copy()
                data["version"] = exc.current_version
                form = CustomerForm(data, user=request.user)
                form.is_valid()
            else:
                messages.success(request, _("Customer saved."))
                return redirect("customers:detail", pk=customer.pk)
    else:
        form = CustomerForm(initial=initial_from_customer(customer), user=request.user)
    return render(
        request,
        "customers/customer_form.html",
        {"form": form, "customer": customer, "conflict": conflict, **kind_field_groups()},
        status=409 if conflict else 200,
    )


@require_POST
@login_required
def customer_delete(request, pk):
    customer = get_object_or_404(queries.customers_visible_to(request.user), pk=pk)
    services.customer_delete(actor=ui_actor(request), customer=customer)
    messages.success(request, _("“%(name)s” moved to the recycle bin.") % {"name": customer.name})
    return redirect("customers:list")


@login_required
def recycle_bin(request):
    if not roles.can_view_recycle_bin(request.user):
        raise PermissionDenied
    queryset = (
        queries.customers_visible_to(request.user, include_deleted=True)
        .filter(deleted_at__isnull=False)
        .select_related("owner", "deleted_by")
        .order_by("-deleted_at", "-id")
    )
    page = CappedPaginator(queryset, 50).get_page(request.GET.get("page"))
    from django.conf import settings

    return render(
        request,
        "customers/recycle_bin.html",
        {"page": page, "retention_days": settings.KEHU_RECYCLE_RETENTION_DAYS},
    )


@require_POST
@login_required
def customer_restore(request, pk):
    customer = get_object_or_404(
        queries.customers_visible_to(request.user, include_deleted=True), pk=pk
    )
    services.customer_restore(actor=ui_actor(request), customer=customer)
    messages.success(request, _("“%(name)s” is restored.") % {"name": customer.name})
    return redirect("customers:detail", pk=customer.pk)


def kind_field_groups() -> dict:
    """Which form fields belong to one kind only, so the form can hide the others."""
    person = list(CustomerForm.PERSON_ONLY)
    organization = list(CustomerForm.ORGANIZATION_ONLY)
    for definition in CustomFieldDefinition.objects.exclude(applies_to="both"):
        target = person if definition.applies_to == "person" else organization
        target.append(f"cf_{definition.key}")
    return {"person_only": person, "organization_only": organization}


# ---- contacts and notes ----------------------------------------------------


def _editable_customer(request, pk) -> Customer:
    customer = get_object_or_404(queries.customers_visible_to(request.user), pk=pk)
    if not queries.can_edit(request.user, customer):
        raise PermissionDenied
    return customer


def _edit_child(request, customer, record, form_class, initial, create, update, labels):
    """The add/edit page of a contact or an address: the services validate and log."""
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version", None)
            actor = ui_actor(request)
            try:
                if record:
                    update(actor, record, data, version)
                else:
                    create(actor, customer, data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            except VersionConflict as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, labels["saved"])
                return redirect("customers:detail", pk=customer.pk)
    else:
        form = form_class(initial=initial) if record else form_class()
    return render(
        request,
        "customers/child_form.html",
        {"form": form, "customer": customer, "record": record, "labels": labels},
    )


def _contact_labels(contact):
    return {
        "title": _("Edit contact") if contact else _("Add contact"),
        "saved": _("Contact saved.") if contact else _("Contact added."),
        "remove": _("Remove contact"),
        "delete_url": "customers:contact_delete",
    }


@login_required
def contact_create(request, pk):
    return contact_edit(request, pk)


@login_required
def contact_edit(request, pk, contact_pk=None):
    customer = _editable_customer(request, pk)
    contact = get_object_or_404(Contact, pk=contact_pk, customer=customer) if contact_pk else None
    initial = contact and {
        "name": contact.name,
        "title": contact.title,
        "phones": "\n".join(contact.phones_display),
        "email": contact.email,
        "role": contact.role,
        "is_primary": contact.is_primary,
        "version": contact.version,
    }
    return _edit_child(
        request,
        customer,
        contact,
        ContactForm,
        initial,
        create=lambda actor, c, data: services.contact_create(actor=actor, customer=c, data=data),
        update=lambda actor, r, data, v: services.contact_update(
            actor=actor, contact=r, data=data, version=v
        ),
        labels=_contact_labels(contact),
    )


@require_POST
@login_required
def contact_delete(request, pk, contact_pk):
    customer = _editable_customer(request, pk)
    contact = get_object_or_404(Contact, pk=contact_pk, customer=customer)
    services.contact_delete(actor=ui_actor(request), contact=contact)
    messages.success(request, _("Contact removed."))
    return redirect("customers:detail", pk=customer.pk)


@login_required
def address_edit(request, pk, address_pk=None):
    customer = _editable_customer(request, pk)
    address = get_object_or_404(Address, pk=address_pk, customer=customer) if address_pk else None
    initial = address and {
        **{f: getattr(address, f) for f in services.ADDRESS_TEXT},
        "kind": address.kind,
        "phone": address.phone_display,
        "version": address.version,
    }
    return _edit_child(
        request,
        customer,
        address,
        AddressForm,
        initial,
        create=lambda actor, c, data: services.address_create(actor=actor, customer=c, data=data),
        update=lambda actor, r, data, v: services.address_update(
            actor=actor, address=r, data=data, version=v
        ),
        labels={
            "title": _("Edit address") if address else _("Add address"),
            "saved": _("Address saved."),
            "remove": _("Remove address"),
            "delete_url": "customers:address_delete",
        },
    )


@require_POST
@login_required
def address_delete(request, pk, address_pk):
    customer = _editable_customer(request, pk)
    address = get_object_or_404(Address, pk=address_pk, customer=customer)
    services.address_delete(actor=ui_actor(request), address=address)
    messages.success(request, _("Address removed."))
    return redirect("customers:detail", pk=customer.pk)


@require_POST
@login_required
def note_create(request, pk):
    customer = get_object_or_404(queries.customers_visible_to(request.user), pk=pk)
    try:
        services.note_create(
            actor=ui_actor(request), customer=customer, body=request.POST.get("body")
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Note added."))
    return redirect("customers:detail", pk=customer.pk)


@require_POST
@login_required
def note_delete(request, pk, note_pk):
    customer = get_object_or_404(queries.customers_visible_to(request.user), pk=pk)
    note = get_object_or_404(Note, pk=note_pk, customer=customer)
    services.note_delete(actor=ui_actor(request), note=note)
    messages.success(request, _("Note deleted."))
    return redirect("customers:detail", pk=customer.pk)


# ---- tags (admin) ----------------------------------------------------------


@login_required
def tag_list(request):
    _admin(request)
    tags = Tag.objects.annotate(uses=Count("customertag")).order_by("name")
    return render(request, "customers/tag_list.html", {"tags": tags})


@login_required
def tag_edit(request, pk):
    _admin(request)
    tag = get_object_or_404(Tag, pk=pk)
    errors = {}
    if request.method == "POST":
        try:
            if request.POST.get("action") == "delete":
                services.tag_delete(actor=ui_actor(request), tag=tag)
                messages.success(request, _("Tag deleted."))
            else:
                services.tag_update(
                    actor=ui_actor(request),
                    tag=tag,
                    data={"name": request.POST.get("name"), "color": request.POST.get("color")},
                )
                messages.success(request, _("Tag saved."))
            return redirect("customers:tags")
        except ValidationError as exc:
            errors = exc.message_dict
    return render(request, "customers/tag_form.html", {"tag": tag, "errors": errors})


# ---- custom fields (admin) -------------------------------------------------


def _admin(request):
    if not roles.is_admin(request.user):
        raise PermissionDenied


@login_required
def custom_field_list(request):
    _admin(request)
    return render(
        request,
        "customers/custom_field_list.html",
        {"definitions": CustomFieldDefinition.objects.all()},
    )


@login_required
def custom_field_edit(request, pk=None):
    _admin(request)
    definition = get_object_or_404(CustomFieldDefinition, pk=pk) if pk else None
    if request.method == "POST":
        form = CustomFieldForm(request.POST)
        if definition:
            form.fields["key"].required = False
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                if definition:
                    data.pop("key", None)
                    if data.get("position") is None:
                        data.pop("position")
                    core_services.custom_field_update(
                        actor=ui_actor(request), definition=definition, data=data
                    )
                else:
                    if data.get("position") is None:
                        data["position"] = 0
                    core_services.custom_field_create(actor=ui_actor(request), data=data)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Custom field saved."))
                return redirect("customers:custom_fields")
    elif definition:
        form = CustomFieldForm(
            initial={
                "key": definition.key,
                "label": definition.label,
                "field_type": definition.field_type,
                "required": definition.required,
                "choices": "\n".join(definition.choices),
                "applies_to": definition.applies_to,
                "help_text": definition.help_text,
                "position": definition.position,
            }
        )
        form.fields["key"].disabled = True
        form.fields["field_type"].disabled = True
    else:
        form = CustomFieldForm()
    return render(
        request, "customers/custom_field_form.html", {"form": form, "definition": definition}
    )


@require_POST
@login_required
def custom_field_delete(request, pk):
    _admin(request)
    definition = get_object_or_404(CustomFieldDefinition, pk=pk)
    core_services.custom_field_delete(actor=ui_actor(request), definition=definition)
    messages.success(request, _("Custom field deleted; stored values are kept."))
    return redirect("customers:custom_fields")
