from django.contrib import admin

from .models import Delivery, Notification, Reminder


class DeliveryInline(admin.TabularInline):
    model = Delivery
    extra = 0
    can_delete = False
    readonly_fields = ["channel", "address", "status", "attempts", "next_attempt_at", "sent_at",
                       "last_error"]
    exclude = ["claimed_at"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "kind", "suggestion", "read_at"]
    list_filter = ["kind"]
    search_fields = ["recipient__username"]
    raw_id_fields = ["recipient", "suggestion"]
    readonly_fields = ["recipient", "kind", "suggestion", "params", "url", "created_at"]
    inlines = [DeliveryInline]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["notification", "channel", "address", "status", "attempts", "next_attempt_at"]
    list_filter = ["status", "channel"]
    search_fields = ["address"]
    raw_id_fields = ["notification"]


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["created_at", "stage", "suggestion", "recipient", "due_on"]
    list_filter = ["stage"]
    raw_id_fields = ["suggestion", "recipient"]
