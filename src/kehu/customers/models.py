from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.accounts.models import Team
from kehu.core.models import BusinessRecord, UnicodeJSONEncoder
from kehu.core.normalize import format_phone

LIVE = Q(deleted_at__isnull=True)


class Kind(models.TextChoices):
    PERSON = "person", _("Individual")
    ORGANIZATION = "organization", _("Organisation")


class Gender(models.TextChoices):
    UNKNOWN = "", _("Not stated")
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")


class Source(models.TextChoices):
    WEBSITE = "website", _("Website form")
    SOCIAL = "social", _("Social media")
    SALES = "sales", _("Sales team")
    THIRD_PARTY = "third_party", _("Third party")
    REFERRAL = "referral", _("Referral")
    EVENT = "event", _("Event / exhibition")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


class Status(models.TextChoices):
    LEAD = "lead", _("Lead")
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "active", _("Customer")
    INACTIVE = "inactive", _("Inactive")
    LOST = "lost", _("Lost")


class CompanySize(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    MICRO = "micro", _("1–9 employees")
    SMALL = "small", _("10–99 employees")
    MEDIUM = "medium", _("100–999 employees")
    LARGE = "large", _("1000+ employees")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)
    color = models.CharField(_("colour"), max_length=7, default="#607d8b")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name


class Customer(BusinessRecord):
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=200)
    # Full pinyin of the name: sorting by name follows 拼音 order, as people expect.
    name_sort = models.CharField(max_length=200, editable=False, default="")
    gender = models.CharField(_("gender"), max_length=6, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    phones = models.JSONField(_("phones"), default=list, blank=True)
    emails = models.JSONField(_("emails"), default=list, blank=True)
    id_number = models.CharField(_("resident ID number"), max_length=18, blank=True)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    country = models.CharField(_("country"), max_length=2, default="CN", blank=True)
    province = models.CharField(_("province"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    district = models.CharField(_("district"), max_length=50, blank=True)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    company_name = models.CharField(_("company"), max_length=200, blank=True)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    registered_address = models.CharField(_("registered address"), max_length=300, blank=True)
    main_business = models.CharField(_("main business"), max_length=300, blank=True)
    industry = models.CharField(_("industry"), max_length=50, blank=True)
    company_size = models.CharField(
        _("company size"), max_length=8, choices=CompanySize.choices, blank=True
    )
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = models.DecimalField(
        _("annual revenue"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    revenue_currency = models.CharField(_("currency"), max_length=3, default="CNY", blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=12, choices=Source.choices, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.LEAD
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
    )
    tags = models.ManyToManyField(
        Tag, verbose_name=_("tags"), blank=True, related_name="customers", through="CustomerTag"
    )
    custom_fields = models.JSONField(
        _("custom fields"), default=dict, blank=True, encoder=UnicodeJSONEncoder
    )

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["-updated_at", "-id"], name="cust_updated", condition=LIVE),
            models.Index(fields=["-created_at", "-id"], name="cust_created", condition=LIVE),
            models.Index(fields=["name_sort", "id"], name="cust_name", condition=LIVE),
            models.Index(fields=["owner", "-updated_at"], name="cust_owner", condition=LIVE),
            models.Index(fields=["team", "-updated_at"], name="cust_team", condition=LIVE),
            models.Index(fields=["owner", "name_sort"], name="cust_owner_name", condition=LIVE),
            models.Index(fields=["team", "name_sort"], name="cust_team_name", condition=LIVE),
            # A rep's or a team's customers by status or city, found without reading
            # rows (a rep's 40,000 customers, of which 1,300 in one city). The id
            # lets PostgreSQL answer from the index alone too.
            models.Index(
                fields=["owner", "status", "id"], name="cust_owner_status", condition=LIVE
            ),
            models.Index(fields=["owner", "city", "id"], name="cust_owner_city", condition=LIVE),
            models.Index(fields=["team", "status", "id"], name="cust_team_status", condition=LIVE),
            models.Index(fields=["city", "-updated_at", "-id"], name="cust_city", condition=LIVE),
            models.Index(fields=["city", "name_sort", "id"], name="cust_city_name", condition=LIVE),
            models.Index(fields=["province", "city"], name="cust_region", condition=LIVE),
            models.Index(fields=["industry"], name="cust_industry", condition=LIVE),
            models.Index(fields=["source"], name="cust_source", condition=LIVE),
            models.Index(fields=["deleted_at"], name="cust_deleted", condition=~LIVE),
        ]

    def __str__(self):
        return self.name

    @property
    def phones_display(self) -> list[str]:
        return [format_phone(p) for p in self.phones]

    @property
    def first_phone_display(self) -> str:
        return format_phone(self.phones[0]) if self.phones else ""

    @property
    def region_display(self) -> str:
        return " ".join(p for p in (self.province, self.city, self.district) if p)


class CustomerTag(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)
    # The classification rule that gave the tag (segments.Rule, referred to by
    # id: customers sits below segments); null when a person gave it. A run
    # takes away only the tags rules gave.
    given_by_rule = models.PositiveIntegerField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "tag"], name="customer_tag_unique")
        ]
        indexes = [models.Index(fields=["tag", "customer"], name="custtag_tag")]

    def __str__(self):
        return f"{self.customer_id}:{self.tag_id}"


class SearchKeyIndex(models.Index):
    """The prefix-search index, shaped for each database.

    SQLite: ``(key, customer_id)``, covering, searched as a byte range.
    PostgreSQL: ``(key varchar_pattern_ops) INCLUDE (customer_id)``: the pattern
    opclass serves ``LIKE 'q%'`` in any collation, and customer_id must not be a
    key column there, or the planner probes this index once per customer, each
    probe scanning a whole key range (0.8 s for "zw" at a million customers,
    28 ms with the primary key taking the probes).
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            shaped = models.Index(
                fields=["key"],
                include=["customer"],
                opclasses=["varchar_pattern_ops"],
                name=self.name,
            )
        else:
            shaped = models.Index(fields=self.fields, name=self.name)
        return shaped.create_sql(model, schema_editor, using=using, **kwargs)


class CustomerSearchKey(models.Model):
    """Suffix keys of a customer's searchable text; see ``kehu.core.pinyin``.

    The primary key (customer, key) keeps a customer's keys together, so bulk
    loads append and re-keying one customer touches one range; the secondary
    index (key, customer) serves the prefix search.
    """

    pk = models.CompositePrimaryKey("customer", "key")
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    key = models.CharField(max_length=64)

    class Meta:
        indexes = [SearchKeyIndex(fields=["key", "customer"], name="custkey_key")]

    def __str__(self):
        return self.key


class Contact(BusinessRecord):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    phones = models.JSONField(_("phones"), default=list, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    role = models.CharField(_("role"), max_length=100, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        ordering = ["-is_primary", "name", "id"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [models.Index(fields=["customer"], name="contact_customer", condition=LIVE)]

    def __str__(self):
        return self.name

    @property
    def phones_display(self) -> list[str]:
        return [format_phone(p) for p in self.phones]

    @property
    def first_phone_display(self) -> str:
        return format_phone(self.phones[0]) if self.phones else ""


class AddressKind(models.TextChoices):
    OFFICE = "office", _("Office")
    SHIPPING = "shipping", _("Shipping")
    BILLING = "billing", _("Billing")
    HOME = "home", _("Home")
    BRANCH = "branch", _("Branch")
    OTHER = "other", _("Other")


class Address(BusinessRecord):
    """A further address of a customer; the customer's own address fields hold the main one."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="addresses"
    )
    kind = models.CharField(
        _("address type"), max_length=10, choices=AddressKind.choices, default=AddressKind.OFFICE
    )
    country = models.CharField(_("country"), max_length=2, default="CN", blank=True)
    province = models.CharField(_("province"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    district = models.CharField(_("district"), max_length=50, blank=True)
    street = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    recipient = models.CharField(_("recipient"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    class Meta:
        ordering = ["kind", "id"]
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        indexes = [models.Index(fields=["customer"], name="address_customer", condition=LIVE)]

    def __str__(self):
        return " ".join(p for p in (self.province, self.city, self.district, self.street) if p)

    @property
    def phone_display(self) -> str:
        return format_phone(self.phone) if self.phone else ""


class Note(BusinessRecord):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = models.TextField(_("note"), max_length=10000)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="note_customer", condition=LIVE)
        ]

    def __str__(self):
        return self.body[:50]


class SavedList(models.Model):
    """A customer list someone wants back: its filters, search and order as the
    list page's query string. Shared ones show to everyone, each seeing only
    the customers they may see."""

    name = models.CharField(_("name"), max_length=60)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_lists",
        verbose_name=_("owner"),
    )
    shared = models.BooleanField(_("shared with everyone"), default=False)
    query = models.TextField(_("filters"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("saved list")
        verbose_name_plural = _("saved lists")
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_list_owner_name"),
        ]

    def __str__(self):
        return self.name
