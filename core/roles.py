"""Who a user is in this system. One place decides; views and querysets ask here."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("administrator")
    OFFICE = "office", _("congress office")
    HEAD = "head", _("person in charge")
    HANDLER = "handler", _("handler")
    DEPUTY = "deputy", _("deputy")
    NONE = "none", _("no role")


def role_of(user) -> Role:
    if user is None or not user.is_authenticated or not user.is_active:
        return Role.NONE
    cached = getattr(user, "_suggestion_role", None)
    if cached is not None:
        return cached
    role = Role.NONE
    if user.is_superuser:
        role = Role.ADMIN
    else:
        member = getattr(user, "staff_member", None)
        if member is not None:
            role = Role(member.role)
        elif getattr(user, "deputy", None) is not None:
            role = Role.DEPUTY
    user._suggestion_role = role
    return role


def user_unit_id(user) -> int | None:
    member = getattr(user, "staff_member", None)
    return member.unit_id if member is not None else None


def is_coordinator(user) -> bool:
    return role_of(user) in (Role.ADMIN, Role.OFFICE)


def is_unit_staff(user) -> bool:
    return role_of(user) in (Role.HANDLER, Role.HEAD)


def display_name(user) -> str:
    member = getattr(user, "staff_member", None)
    if member is not None:
        return member.display_name
    deputy = getattr(user, "deputy", None)
    if deputy is not None:
        return deputy.name
    return user.get_full_name() or user.get_username()
