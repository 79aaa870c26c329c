from core.roles import Role, display_name, role_of


def role(request) -> dict:
    user = getattr(request, "user", None)
    current = role_of(user)
    return {
        "role": current,
        "Role": Role,
        "user_display_name": display_name(user) if current != Role.NONE else "",
    }
