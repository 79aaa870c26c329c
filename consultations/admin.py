from django.contrib import admin

from suggestions.admin import AuditedAdmin

from .models import Attachment, Consultation


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ["kind", "original_name", "content_type", "size", "uploaded_by", "uploaded_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Consultation)
class ConsultationAdmin(AuditedAdmin):
    list_display = ["suggestion", "deputy", "held_on", "method", "place", "proposed_category",
                    "signature"]
    list_filter = ["method", "signature", "proposed_category", "satisfaction"]
    search_fields = ["suggestion__title", "=suggestion__number", "deputy__name", "place",
                     "attendees"]
    date_hierarchy = "held_on"
    raw_id_fields = ["suggestion", "deputy", "created_by"]
    # The deputy's online confirmation is theirs alone; a changed record is logged.
    readonly_fields = ["suggestion", "signature", "signed_name", "lock_version", "confirmed_at"]
    inlines = [AttachmentInline]
    list_select_related = ["suggestion__session", "deputy"]


@admin.register(Attachment)
class AttachmentAdmin(AuditedAdmin):
    list_display = ["original_name", "consultation", "kind", "content_type", "size", "uploaded_at"]
    list_filter = ["kind", "content_type"]
    search_fields = ["original_name"]
    readonly_fields = ["file", "content_type", "size", "uploaded_by", "uploaded_at"]
    raw_id_fields = ["consultation"]

    def audited_suggestion(self, obj):
        return obj.consultation.suggestion
