"""The inbox: the user's own notifications, newest first; opening a page of it marks what it
shows as read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .models import Notification

PAGE_SIZE = 50


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    mine = Notification.objects.filter(recipient=request.user).order_by("-created_at", "-pk")
    page = Paginator(mine, PAGE_SIZE).get_page(request.GET.get("page"))
    items = list(page.object_list)
    unread = [n.pk for n in items if n.read_at is None]
    if unread:
        Notification.objects.filter(pk__in=unread, recipient=request.user,
                                    read_at__isnull=True).update(read_at=timezone.now())
    more_unread = Notification.objects.filter(recipient=request.user, read_at__isnull=True).exists()
    return render(request, "notifications/inbox.html", {
        "page": page, "items": items, "unread": set(unread), "more_unread": more_unread,
        "query": "",
    })


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if count:
        messages.success(request, _("All notifications marked as read."))
    return redirect("notifications:inbox")
