from rest_framework import serializers

from ..models import Order, OrderLine, Product, Refund


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "name", "category", "list_price", "currency", "active", "version"]
        read_only_fields = ["id", "version"]


class OrderLineSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="product.sku", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)

    class Meta:
        model = OrderLine
        fields = ["sku", "product_name", "quantity", "unit_price", "discount", "amount"]


class RefundSerializer(serializers.ModelSerializer):
    class Meta:
        model = Refund
        fields = ["id", "external_id", "refunded_at", "amount", "reason", "is_return"]


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    refunds = RefundSerializer(many=True, read_only=True)
    net_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "external_id",
            "customer",
            "ordered_at",
            "currency",
            "status",
            "cancel_reason",
            "amount",
            "refunded_amount",
            "net_amount",
            "lines",
            "refunds",
            "created_at",
            "version",
        ]


class OrderLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)
    unit_price = serializers.DecimalField(
        max_digits=14, decimal_places=2, required=False, help_text="Defaults to the list price."
    )
    discount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False)


class OrderInputSerializer(serializers.Serializer):
    """An order as a client sends it (for the schema; the services validate)."""

    external_id = serializers.CharField(help_text="Its id where it comes from; idempotency key.")
    customer = serializers.IntegerField(help_text="The customer's id.")
    ordered_at = serializers.DateTimeField()
    currency = serializers.CharField(required=False, help_text="ISO 4217; default CNY.")
    status = serializers.ChoiceField(choices=["paid", "cancelled"], required=False)
    cancel_reason = serializers.CharField(
        required=False, help_text="Why a cancelled order was cancelled (up to 100 characters)."
    )
    lines = OrderLineInputSerializer(many=True)


class OrderBatchSerializer(serializers.Serializer):
    orders = OrderInputSerializer(many=True)


class RejectedSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class IngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = RejectedSerializer(many=True)


class RefundInputSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)
    refunded_at = serializers.DateTimeField(required=False)
    reason = serializers.CharField(required=False)
    is_return = serializers.BooleanField(required=False)
    external_id = serializers.CharField(required=False)
