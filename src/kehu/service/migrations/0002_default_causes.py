from django.db import migrations
from django.utils.translation import gettext_noop

DEFAULT_CAUSES = [
    ("product_quality", gettext_noop("Product quality")),
    ("service", gettext_noop("Service")),
    ("price", gettext_noop("Price")),
    ("delivery", gettext_noop("Delivery")),
    ("other", gettext_noop("Other")),
]


def add_default_causes(apps, schema_editor):
    cause = apps.get_model("service", "TicketCause")
    for position, (key, label) in enumerate(DEFAULT_CAUSES):
        cause.objects.get_or_create(key=key, defaults={"label": label, "position": position})


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial")]

    operations = [migrations.RunPython(add_default_causes, migrations.RunPython.noop)]
