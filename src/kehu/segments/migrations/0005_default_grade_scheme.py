from django.db import migrations

# Marked for translation in segments/labels.py ("Value grade").
DEFAULT = {
    "key": "value",
    "name": "Value grade",
    "method": "quantiles",
    "weight_recency": 25,
    "weight_frequency": 25,
    "weight_monetary": 40,
    "weight_loyalty": 10,
    "grades": [
        {"label": "A", "value": 20},
        {"label": "B", "value": 30},
        {"label": "C", "value": 30},
        {"label": "D", "value": 20},
    ],
}


def ship(apps, schema_editor):
    GradeScheme = apps.get_model("segments", "GradeScheme")
    if not GradeScheme.objects.filter(key=DEFAULT["key"]).exists():
        GradeScheme.objects.create(**DEFAULT)


class Migration(migrations.Migration):
    dependencies = [("segments", "0004_grade_schemes")]
    operations = [migrations.RunPython(ship, migrations.RunPython.noop)]
