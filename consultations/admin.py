from django.contrib import admin

from .models import Attachment, Consultation


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ["kind", "original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Consultation)
class ConsultationAdmin(admin.ModelAdmin):
    list_display = ["suggestion", "deputy", "held_on", "method", "place", "proposed_category",
                    "signature"]
    list_filter = ["method", "signature", "proposed_category", "satisfaction"]
    search_fields = ["suggestion__title", "=suggestion__number", "deputy__name", "place",
                     "attendees"]
    date_hierarchy = "held_on"
    raw_id_fields = ["suggestion", "deputy", "created_by"]
    readonly_fields = ["lock_version", "confirmed_at"]
    inlines = [AttachmentInline]
    list_select_related = ["suggestion__session", "deputy"]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["original_name", "consultation", "kind", "content_type", "size", "uploaded_at"]
    list_filter = ["kind", "content_type"]
    search_fields = ["original_name"]
    readonly_fields = ["file", "content_type", "size", "uploaded_by", "uploaded_at"]
    raw_id_fields = ["consultation"]
