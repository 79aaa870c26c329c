"""Login, and what django-axes needs from the project to throttle password guessing.

django-axes (configured in config/settings.py) counts failed logins in the database per
*username and client address together*: a bureau whose users all reach the server through one
proxy address is not locked out as a whole by one user's typos, and nobody can lock a named
user out from elsewhere. After ``LOGIN_FAILURE_LIMIT`` failures that pair is refused, even
with the right password, for ``LOGIN_FAILURE_WINDOW`` seconds.
"""

from __future__ import annotations

import datetime
import ipaddress
import math
from functools import lru_cache

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True


# --- Client address --------------------------------------------------------------------------

@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _parse(value: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, unless that is a trusted proxy (``TRUSTED_PROXIES``).

    Behind trusted proxies the client is the right-most address of X-Forwarded-For that is not
    itself a trusted proxy: each proxy appends the address it was contacted from, so whatever
    the client wrote into the header itself stands further left and is never believed. With no
    trusted proxy configured the header is ignored altogether (anyone can send it).
    """
    remote = _parse(request.META.get("REMOTE_ADDR", ""))
    proxies = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    if remote is None:
        return None
    if not any(remote in network for network in proxies):
        return str(remote)
    client = remote
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _parse(hop)
        if address is None:
            break  # not an address: nothing left of it can be trusted either
        client = address
        if not any(address in network for network in proxies):
            break
    return str(client)


# --- django-axes hooks -----------------------------------------------------------------------

def failure_limit(request=None, credentials=None) -> int:
    return settings.LOGIN_FAILURE_LIMIT


def cool_off(request=None) -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)


def _minutes_left(request, username: str) -> int:
    """Minutes until this username may log in again from this address (rounded up)."""
    from axes.models import AccessAttempt

    last = (
        AccessAttempt.objects.filter(username=username, ip_address=getattr(request, "axes_ip_address", None))
        .order_by("-attempt_time").values_list("attempt_time", flat=True).first()
    )
    window = cool_off(request)
    left = (last + window - timezone.now()) if last else window
    return max(1, math.ceil(left.total_seconds() / 60))


def lockout_message(request, username: str) -> str:
    minutes = _minutes_left(request, username)
    return ngettext(
        "Too many failed logins with this user name from this computer. Please try again in "
        "%(minutes)d minute, or ask an administrator to unlock the account.",
        "Too many failed logins with this user name from this computer. Please try again in "
        "%(minutes)d minutes, or ask an administrator to unlock the account.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """The login page again (HTTP 429), saying why the login was refused and for how long."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    form.cleaned_data = {}  # an unbound form, given an error of its own
    form.add_error(None, ValidationError(lockout_message(request, username), code="locked_out"))
    return render(request, "registration/login.html", {
        "form": form, "next": request.POST.get("next", request.GET.get("next", "")),
    }, status=429)
