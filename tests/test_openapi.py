"""The OpenAPI schema describes every endpoint without guesses: drf-spectacular
warns where it had to guess a type or a name, and a warning fails here."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_generates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in ("/api/surveys/{id}/invite/", "/api/loyalty/entries/", "/api/tasks/inbox/"):
        assert path in text
