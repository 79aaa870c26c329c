from django.contrib import admin

from suggestions.admin import AuditedAdmin

from .models import Evaluation, Reply


class EvaluationInline(admin.TabularInline):
    model = Evaluation
    extra = 0
    fields = ["deputy", "attitude", "result", "comment", "source", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Reply)
class ReplyAdmin(AuditedAdmin):
    list_display = ["title", "version", "issuing_unit", "status", "category", "signer_name",
                    "letter_date"]
    list_filter = ["status", "category", "disclosure", "issuing_unit"]
    search_fields = ["title", "=suggestion__number", "body", "verification_code"]
    date_hierarchy = "letter_date"
    raw_id_fields = ["suggestion", "created_by", "signed_by"]
    readonly_fields = ["suggestion", "version", "issuing_unit", "status", "submitted_at",
                       "signed_at", "signed_by", "sent_at", "content_hash", "verification_code",
                       "lock_version"]
    inlines = [EvaluationInline]
    list_select_related = ["issuing_unit"]

    def get_readonly_fields(self, request, obj=None):
        # A signed letter is frozen here as everywhere else.
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.is_frozen:
            fields += [f.name for f in obj._meta.fields if f.name not in fields and f.name != "id"]
        return fields


@admin.register(Evaluation)
class EvaluationAdmin(AuditedAdmin):
    list_display = ["reply", "deputy", "attitude", "result", "source", "created_at"]
    list_filter = ["attitude", "result", "source"]
    search_fields = ["deputy__name", "reply__title", "comment"]
    raw_id_fields = ["reply", "deputy", "recorded_by"]
    # A rating moves the suggestion (re-handling, 满意率): it is given through the workflow.
    readonly_fields = ["reply", "deputy", "attitude", "result", "source", "recorded_by"]

    def has_add_permission(self, request):
        return False

    def audited_suggestion(self, obj):
        return obj.reply.suggestion
