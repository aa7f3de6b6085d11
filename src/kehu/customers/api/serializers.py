"""Output shapes of the customer API. Input goes to the services as given: they
validate and normalise, so the API, the UI and imports enforce one rule."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehu.core.models import CustomFieldDefinition

from ..models import Address, Contact, Customer, Kind, Note, SavedList, Tag

CUSTOMER_READ_FIELDS = [
    "id",
    "kind",
    "name",
    "gender",
    "birthday",
    "phones",
    "emails",
    "id_number",
    "credit_code",
    "country",
    "province",
    "city",
    "district",
    "street",
    "postal_code",
    "company_name",
    "job_title",
    "registered_address",
    "main_business",
    "industry",
    "company_size",
    "employees",
    "annual_revenue",
    "revenue_currency",
    "website",
    "source",
    "status",
    "owner",
    "owner_name",
    "team",
    "tags",
    "custom_fields",
    "order_count",
    "total_spent",
    "first_purchase_at",
    "last_purchase_at",
    "version",
    "created_at",
    "updated_at",
]


class CustomerSerializer(serializers.ModelSerializer):
    tags = serializers.SerializerMethodField()
    # Purchase figures live with the orders (sales.PurchaseSummary, reached by its
    # reverse name); a customer without orders has none.
    order_count = serializers.SerializerMethodField()
    total_spent = serializers.SerializerMethodField()
    first_purchase_at = serializers.SerializerMethodField()
    last_purchase_at = serializers.SerializerMethodField()
    owner_name = serializers.SerializerMethodField()
    phones = serializers.ListField(child=serializers.CharField(), required=False)
    emails = serializers.ListField(child=serializers.CharField(), required=False)
    custom_fields = serializers.DictField(required=False)

    class Meta:
        model = Customer
        fields = CUSTOMER_READ_FIELDS
        read_only_fields = [
            "id",
            "version",
            "created_at",
            "updated_at",
            "owner_name",
            "order_count",
            "total_spent",
            "first_purchase_at",
            "last_purchase_at",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, obj):
        return sorted(t.name for t in obj.tags.all())

    @staticmethod
    def _summary(obj):
        return getattr(obj, "purchase_summary", None)

    @extend_schema_field(serializers.IntegerField())
    def get_order_count(self, obj):
        summary = self._summary(obj)
        return summary.order_count if summary else 0

    @extend_schema_field(serializers.DecimalField(max_digits=18, decimal_places=2))
    def get_total_spent(self, obj):
        summary = self._summary(obj)
        return f"{summary.total_spent:.2f}" if summary else "0.00"

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_first_purchase_at(self, obj):
        summary = self._summary(obj)
        first = summary.first_purchase_at if summary else None
        return serializers.DateTimeField().to_representation(first) if first else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_last_purchase_at(self, obj):
        summary = self._summary(obj)
        last = summary.last_purchase_at if summary else None
        return serializers.DateTimeField().to_representation(last) if last else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, obj):
        return str(obj.owner) if obj.owner_id else None


class CustomerWriteSerializer(serializers.Serializer):
    """The request body of create and update, for the schema; see the services."""

    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    name = serializers.CharField(required=False)
    phones = serializers.ListField(child=serializers.CharField(), required=False)
    emails = serializers.ListField(child=serializers.CharField(), required=False)
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    owner = serializers.IntegerField(required=False, allow_null=True)
    team = serializers.IntegerField(required=False, allow_null=True)
    custom_fields = serializers.DictField(required=False)
    version = serializers.IntegerField(required=False, help_text="Required on update.")


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = Contact
        fields = [
            "id",
            "customer",
            "name",
            "title",
            "phones",
            "email",
            "role",
            "is_primary",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "version", "created_at", "updated_at"]


class AddressSerializer(serializers.ModelSerializer):
    class Meta:
        model = Address
        fields = [
            "id",
            "customer",
            "kind",
            "country",
            "province",
            "city",
            "district",
            "street",
            "postal_code",
            "recipient",
            "phone",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "version", "created_at", "updated_at"]


class NoteSerializer(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = Note
        fields = ["id", "customer", "author", "author_name", "body", "created_at", "updated_at"]
        read_only_fields = ["id", "author", "author_name", "created_at", "updated_at"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_author_name(self, obj):
        return str(obj.author) if obj.author_id else None


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "color"]


class CustomFieldDefinitionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomFieldDefinition
        fields = [
            "id",
            "key",
            "label",
            "field_type",
            "required",
            "choices",
            "applies_to",
            "help_text",
            "position",
        ]


class SavedListSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    filters = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = SavedList
        fields = [
            "id",
            "name",
            "owner",
            "shared",
            "query",
            "filters",
            "url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_filters(self, saved) -> dict:
        from django.http import QueryDict

        params = QueryDict(saved.query)
        return {name: params.getlist(name) for name in params}

    def get_url(self, saved) -> str:
        from django.urls import reverse

        return f"{reverse('customers:list')}?{saved.query}"
