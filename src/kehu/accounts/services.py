"""Writes of users and teams."""

from django.db import transaction

from kehu.core.changelog import Actor, diff, log_change, snapshot
from kehu.core.models import ChangeAction, Channel

USER_FIELDS = ["username", "first_name", "last_name", "email", "role", "team", "is_active"]


@transaction.atomic
def user_create(*, actor_user, form):
    user = form.save()
    actor = Actor(user=actor_user, channel=Channel.UI)
    after = snapshot(user, USER_FIELDS)
    log_change(user, ChangeAction.CREATE, actor, {k: [None, v] for k, v in after.items()})
    return user


@transaction.atomic
def user_update(*, actor_user, form):
    from .models import User

    before = snapshot(User.objects.get(pk=form.instance.pk), USER_FIELDS)
    user = form.save()
    changes = diff(before, snapshot(user, USER_FIELDS))
    if changes:
        log_change(user, ChangeAction.UPDATE, Actor(user=actor_user, channel=Channel.UI), changes)
    return user
