"""Model fields that more than one app uses."""

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class JSONTextField(models.TextField):
    """JSON kept as plain text, for values written in bulk (a million rows a
    night) and only ever read whole: PostgreSQL then need not parse each into
    jsonb, which costs about 2 s per million values on COPY. Not queryable by
    key; use JSONField where a query needs to look inside."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else json.loads(value)

    def to_python(self, value):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def get_prep_value(self, value):
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder)

    def value_to_string(self, obj):
        return self.get_prep_value(self.value_from_object(obj))
