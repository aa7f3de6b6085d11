from django.utils.translation import gettext as _


class VersionConflict(Exception):
    """Someone saved the record after the editor read it."""

    def __init__(self, current_version: int, changed_fields: list[str] | None = None):
        self.current_version = current_version
        self.changed_fields = changed_fields or []
        super().__init__(
            _(
                "This record was changed by someone else since you opened it "
                "(now version %(version)s). Review the changes and save again."
            )
            % {"version": current_version}
        )
