from django.db import migrations


def ship(apps, schema_editor):
    from kehu.segments.defaults import ship as create

    create(
        apps.get_model("segments", "Dimension"),
        apps.get_model("segments", "DimensionValue"),
        apps.get_model("segments", "Rule"),
    )


class Migration(migrations.Migration):
    dependencies = [("segments", "0008_rules_set_tags")]
    operations = [migrations.RunPython(ship, migrations.RunPython.noop)]
