"""Customer forms. They collect raw input; the services validate and normalise it,
and their errors are mapped back onto these fields."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from kehu.accounts import roles
from kehu.accounts.models import Team, User
from kehu.core.custom_fields import definitions_for
from kehu.core.models import FieldType

from .models import AddressKind, CompanySize, Gender, Kind, Source, Status


class ServiceErrorsMixin:
    """Shows a service's ValidationError on the form's fields (or above it)."""

    def add_service_errors(self, exc: ValidationError) -> None:
        for key, messages in exc.message_dict.items():
            for message in messages:
                self.add_error(key if key in self.fields else None, message)


LIST_HELP = _("One per line, or separated by commas or semicolons.")


class CustomerForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=Kind.choices)
    name = forms.CharField(label=_("name"), max_length=400)
    gender = forms.ChoiceField(label=_("gender"), choices=Gender.choices, required=False)
    birthday = forms.CharField(
        label=_("birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    phones = forms.CharField(
        label=_("phones"),
        required=False,
        help_text=LIST_HELP,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    emails = forms.CharField(
        label=_("emails"),
        required=False,
        help_text=LIST_HELP,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    id_number = forms.CharField(label=_("resident ID number"), required=False)
    credit_code = forms.CharField(label=_("unified social credit code"), required=False)
    country = forms.CharField(label=_("country"), required=False, initial="CN")
    province = forms.CharField(label=_("province"), required=False)
    city = forms.CharField(label=_("city"), required=False)
    district = forms.CharField(label=_("district"), required=False)
    street = forms.CharField(label=_("street address"), required=False)
    postal_code = forms.CharField(label=_("postal code"), required=False)
    company_name = forms.CharField(label=_("company"), required=False)
    job_title = forms.CharField(label=_("job title"), required=False)
    registered_address = forms.CharField(label=_("registered address"), required=False)
    main_business = forms.CharField(label=_("main business"), required=False)
    industry = forms.CharField(label=_("industry"), required=False)
    company_size = forms.ChoiceField(
        label=_("company size"), choices=CompanySize.choices, required=False
    )
    employees = forms.CharField(label=_("employees"), required=False)
    annual_revenue = forms.CharField(label=_("annual revenue"), required=False)
    revenue_currency = forms.CharField(label=_("currency"), required=False, initial="CNY")
    website = forms.CharField(label=_("website"), required=False)
    source = forms.ChoiceField(
        label=_("source"), choices=[("", "—"), *Source.choices], required=False
    )
    status = forms.ChoiceField(label=_("status"), choices=Status.choices)
    owner = forms.ModelChoiceField(
        label=_("owner"), queryset=User.objects.none(), required=False, empty_label="—"
    )
    team = forms.ModelChoiceField(
        label=_("team"), queryset=Team.objects.all(), required=False, empty_label="—"
    )
    tags = forms.CharField(label=_("tags"), required=False, help_text=_("Separated by commas."))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    PERSON_ONLY = ("gender", "birthday", "id_number", "job_title")
    ORGANIZATION_ONLY = (
        "credit_code",
        "registered_address",
        "main_business",
        "company_size",
        "employees",
        "annual_revenue",
        "revenue_currency",
        "website",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        owners = User.objects.filter(is_active=True).order_by("username")
        if user is not None and not roles.is_admin(user):
            if roles.can_assign_owner(user):
                owners = owners.filter(team_id=user.team_id)
            else:
                owners = owners.filter(pk=user.pk)
                self.fields["team"].queryset = Team.objects.filter(pk=user.team_id)
        self.fields["owner"].queryset = owners
        self.custom_definitions = definitions_for()
        for definition in self.custom_definitions:
            self.fields[f"cf_{definition.key}"] = custom_form_field(definition)

    def custom_field_names(self):
        return [f"cf_{d.key}" for d in self.custom_definitions]

    def service_data(self) -> dict:
        """Raw values for the service; the service validates them."""
        data = {
            name: self.cleaned_data.get(name)
            for name in self.fields
            if name not in ("owner", "team", "tags", "version") and not name.startswith("cf_")
        }
        data["owner"] = self.cleaned_data["owner"].pk if self.cleaned_data.get("owner") else None
        data["team"] = self.cleaned_data["team"].pk if self.cleaned_data.get("team") else None
        data["tags"] = self.cleaned_data.get("tags") or ""
        data["custom_fields"] = {
            d.key: self.cleaned_data.get(f"cf_{d.key}") for d in self.custom_definitions
        }
        return data

    def add_service_errors(self, exc: ValidationError) -> None:
        for key, messages in exc.message_dict.items():
            field = key
            if key.startswith("custom_fields."):
                field = "cf_" + key.split(".", 1)[1]
            if field not in self.fields:
                field = None
            for message in messages:
                self.add_error(field, message)


def custom_form_field(definition) -> forms.Field:
    common = {"label": definition.label, "required": False, "help_text": definition.help_text}
    ftype = definition.field_type
    if ftype == FieldType.BOOLEAN:
        return forms.NullBooleanField(
            widget=forms.Select(choices=[("", "—"), ("true", _("Yes")), ("false", _("No"))]),
            **common,
        )
    if ftype == FieldType.CHOICE:
        return forms.ChoiceField(
            choices=[("", "—"), *[(c, c) for c in definition.choices]], **common
        )
    if ftype == FieldType.MULTICHOICE:
        return forms.MultipleChoiceField(
            choices=[(c, c) for c in definition.choices],
            widget=forms.CheckboxSelectMultiple,
            **common,
        )
    if ftype == FieldType.DATE:
        return forms.CharField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    return forms.CharField(**common)


def initial_from_customer(customer) -> dict:
    initial = {
        name: getattr(customer, name)
        for name in CustomerForm.base_fields
        if name not in ("phones", "emails", "tags", "owner", "team", "birthday")
    }
    initial["phones"] = "\n".join(customer.phones_display)
    initial["emails"] = "\n".join(customer.emails)
    initial["tags"] = ", ".join(t.name for t in customer.tags.all())
    initial["owner"] = customer.owner_id
    initial["team"] = customer.team_id
    initial["birthday"] = customer.birthday.isoformat() if customer.birthday else ""
    initial["annual_revenue"] = (
        customer.annual_revenue if customer.annual_revenue is not None else ""
    )
    initial["employees"] = customer.employees if customer.employees is not None else ""
    for key, value in (customer.custom_fields or {}).items():
        initial[f"cf_{key}"] = value
    return initial


class ContactForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=_("name"))
    title = forms.CharField(label=_("title"), required=False)
    phones = forms.CharField(label=_("phones"), required=False, help_text=LIST_HELP)
    email = forms.CharField(label=_("email"), required=False)
    role = forms.CharField(label=_("role"), required=False)
    is_primary = forms.BooleanField(label=_("primary contact"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class AddressForm(ServiceErrorsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("address type"), choices=AddressKind.choices)
    province = forms.CharField(label=_("province"), required=False)
    city = forms.CharField(label=_("city"), required=False)
    district = forms.CharField(label=_("district"), required=False)
    street = forms.CharField(label=_("street address"), required=False)
    postal_code = forms.CharField(label=_("postal code"), required=False)
    country = forms.CharField(label=_("country"), required=False, initial="CN")
    recipient = forms.CharField(label=_("recipient"), required=False)
    phone = forms.CharField(label=_("phone"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class NoteForm(forms.Form):
    body = forms.CharField(label=_("note"), widget=forms.Textarea(attrs={"rows": 3}))


class CustomFieldForm(ServiceErrorsMixin, forms.Form):
    key = forms.CharField(label=_("key"), max_length=50)
    label = forms.CharField(label=_("label"), max_length=100)
    field_type = forms.ChoiceField(label=_("type"), choices=FieldType.choices)
    required = forms.BooleanField(label=_("required"), required=False)
    choices = forms.CharField(
        label=_("choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For choice fields: one per line."),
    )
    applies_to = forms.ChoiceField(label=_("applies to"), choices=[])
    help_text = forms.CharField(label=_("help text"), required=False)
    position = forms.IntegerField(label=_("position"), required=False, initial=0)

    def __init__(self, *args, **kwargs):
        from kehu.core.models import AppliesTo

        super().__init__(*args, **kwargs)
        self.fields["applies_to"].choices = AppliesTo.choices
