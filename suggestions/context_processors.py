from core.roles import Role, display_name, role_of


def role(request) -> dict:
    user = getattr(request, "user", None)
    current = role_of(user)
    return {
        "role": current,
        "Role": Role,
        "user_display_name": display_name(user) if current != Role.NONE else "",
        "todo_total": _todo_total(user) if current != Role.NONE else 0,
    }


def _todo_total(user) -> int:
    from .todo import total_for

    return total_for(user)
