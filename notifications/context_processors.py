def unread(request) -> dict:
    """``unread_notifications``: the badge's count, one COUNT on the (recipient, read_at) index.

    A callable, which templates call when they show it (and only then); it counts once."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": 0}
    cache: list[int] = []

    def unread_notifications() -> int:
        if not cache:
            from .models import Notification

            cache.append(Notification.objects.filter(recipient=user, read_at__isnull=True).count())
        return cache[0]

    return {"unread_notifications": unread_notifications}
