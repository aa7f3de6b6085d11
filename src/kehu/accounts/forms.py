import zoneinfo

from django import forms
from django.contrib.auth.forms import AuthenticationForm, BaseUserCreationForm
from django.utils.translation import gettext_lazy as _

from .models import Team, User


class LoginForm(AuthenticationForm):
    pass


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["first_name", "last_name", "email", "language", "time_zone"]

    def clean_time_zone(self):
        value = self.cleaned_data["time_zone"].strip()
        if value:
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise forms.ValidationError(
                    _("Unknown time zone; use a name such as Asia/Shanghai.")
                ) from None
        return value


class UserEditForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "role", "team", "is_active"]


class UserCreateForm(BaseUserCreationForm):
    class Meta(UserEditForm.Meta):
        pass


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "description"]
