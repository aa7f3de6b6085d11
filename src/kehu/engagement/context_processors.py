from . import queries


def follow_ups(request) -> dict:
    """The count beside Follow-ups in the menu, for signed-in pages."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"follow_up_count": queries.needs_attention_count(user)}
