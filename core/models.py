"""One-time form tokens: a create form submitted twice (a double click, a retried request)
creates one object, and the second submission is sent where the first one went."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SubmittedForm(models.Model):
    token = models.UUIDField(unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    result_url = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "submitted form"

    def __str__(self) -> str:
        return str(self.token)
