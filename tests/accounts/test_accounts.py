"""Accounts: password hashing, login throttling, roles."""

import pytest
from django.test import Client

from kehu.accounts.models import LoginFailure, Role, User

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.mark.argon2
def test_passwords_are_hashed_with_argon2():
    user = User.objects.create_user("hash", password="Some-Long-Pass-77")
    assert user.password.startswith("argon2")
    assert user.check_password("Some-Long-Pass-77")


def test_login_is_throttled_after_repeated_failures(people):
    client = Client()
    for _ in range(10):
        response = client.post("/login/", {"username": "sales", "password": "wrong"})
        assert response.status_code == 200
    assert LoginFailure.objects.filter(username="sales").count() == 10
    # Even the right password is refused until the window passes.
    blocked = client.post("/login/", {"username": "sales", "password": PASSWORD})
    assert blocked.status_code == 429
    other = client.post("/login/", {"username": "manager", "password": PASSWORD})
    assert other.status_code == 302


def test_logout_and_password_change(people):
    client = Client()
    client.force_login(people["sales"])
    response = client.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "Brand-New-Pass-88",
            "new_password2": "Brand-New-Pass-88",
        },
    )
    assert response.status_code == 302
    people["sales"].refresh_from_db()
    assert people["sales"].check_password("Brand-New-Pass-88")
    assert client.post("/logout/").status_code == 302
    assert client.get("/customers/").status_code == 302


def test_createadmin_command_is_non_interactive(db, capsys):
    from django.core.management import call_command

    call_command("createadmin", "--username", "root", "--password", "Long-Enough-1", "--json")
    out = capsys.readouterr().out
    assert '"created": true' in out
    user = User.objects.get(username="root")
    assert user.role == Role.ADMIN and user.is_superuser
    call_command("createadmin", "--username", "root", "--password", "Other-Pass-22")
    user.refresh_from_db()
    assert user.check_password("Other-Pass-22")
