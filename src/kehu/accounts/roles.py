"""What each role may do with customer records.

Record scope is one of: "all", "team", "own", "none". Lists, pages, the API,
search and exports all go through these, via ``customers.queries``.
"""

from .models import Role

READ_SCOPE = {
    Role.ADMIN: "all",
    Role.MANAGER: "team",
    Role.SALES: "own",
    Role.SUPPORT: "all",
    Role.ANALYST: "all",
    Role.READONLY: "team",
}
WRITE_SCOPE = {
    Role.ADMIN: "all",
    Role.MANAGER: "team",
    Role.SALES: "own",
    Role.SUPPORT: "none",
    Role.ANALYST: "none",
    Role.READONLY: "none",
}


def effective_role(user) -> str | None:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    return user.role


def read_scope(user) -> str:
    role = effective_role(user)
    return READ_SCOPE.get(role, "none") if role else "none"


def write_scope(user) -> str:
    role = effective_role(user)
    return WRITE_SCOPE.get(role, "none") if role else "none"


def can_create_customers(user) -> bool:
    return write_scope(user) != "none"


def can_assign_owner(user) -> bool:
    """Managers and admins may give a record to someone else."""
    return effective_role(user) in (Role.ADMIN, Role.MANAGER)


def is_admin(user) -> bool:
    return effective_role(user) == Role.ADMIN


def can_view_recycle_bin(user) -> bool:
    return effective_role(user) in (Role.ADMIN, Role.MANAGER)
