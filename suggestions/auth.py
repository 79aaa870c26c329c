"""Login with throttling against password guessing (per username and per client address)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def _keys(request, username: str) -> list[str]:
    ip = request.META.get("REMOTE_ADDR", "") if request else ""
    name = hashlib.sha256((username or "").strip().lower().encode()).hexdigest()[:32]
    return [f"login-fail:user:{name}", f"login-fail:ip:{ip}"]


class ThrottledAuthenticationForm(AuthenticationForm):
    def clean(self):
        username = self.data.get("username", "")
        keys = _keys(self.request, username)
        if any(cache.get(key, 0) >= settings.LOGIN_FAILURE_LIMIT for key in keys):
            raise ValidationError(
                _("Too many failed attempts. Please wait %(minutes)d minutes and try again.")
                % {"minutes": settings.LOGIN_FAILURE_WINDOW // 60},
                code="throttled",
            )
        try:
            return super().clean()
        except ValidationError:
            for key in keys:
                cache.add(key, 0, settings.LOGIN_FAILURE_WINDOW)
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.set(key, 1, settings.LOGIN_FAILURE_WINDOW)
            raise


class ThrottledLoginView(LoginView):
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True
