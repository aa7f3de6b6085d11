from django import forms
from django.utils.translation import gettext_lazy as _

from .models import TicketType


class PublicFeedbackForm(forms.Form):
    """The public feedback form. ``website`` is a trap for bots: people never see it."""

    name = forms.CharField(label=_("Your name"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    type = forms.ChoiceField(label=_("About"), choices=TicketType.choices)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Details"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    website = forms.CharField(required=False, label=_("Leave this empty"))
