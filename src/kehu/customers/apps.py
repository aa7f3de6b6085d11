from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "kehu.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self):
        from . import timeline

        timeline.register(timeline.Source("change", _changes, "timestamp", _change_entry))


def _changes(customer):
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Q

    from kehu.core.models import ChangeLogEntry

    from .models import Address, Contact, Customer, Note

    own = ContentType.objects.get_for_model(Customer)
    children = ContentType.objects.get_for_models(Contact, Address, Note).values()
    return ChangeLogEntry.objects.filter(
        Q(content_type=own, object_id=customer.pk)
        | Q(parent_type=own, parent_id=customer.pk, content_type__in=list(children))
    ).select_related("user", "content_type")


def _change_entry(entry):
    from .timeline import Entry

    return Entry(
        "change",
        entry.timestamp,
        entry.pk,
        f"{entry.get_action_display()} {entry.object_repr}",
        {
            "object_type": entry.content_type.model,
            "user": entry.user.username if entry.user_id else None,
            "channel": entry.channel,
            "changes": entry.changes,
        },
    )
