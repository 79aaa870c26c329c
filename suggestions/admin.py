from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from .models import CoHandling, CongressSession, Deputy, Event, HandlingUnit, StaffMember, Suggestion


@admin.register(CongressSession)
class CongressSessionAdmin(admin.ModelAdmin):
    list_display = ["name", "term", "meeting", "year", "opened_on"]
    list_filter = ["year"]
    search_fields = ["name"]


@admin.register(Deputy)
class DeputyAdmin(admin.ModelAdmin):
    list_display = ["name", "work_unit", "phone", "delegation", "user"]
    search_fields = ["name", "work_unit", "phone"]
    list_filter = ["delegation"]
    raw_id_fields = ["user"]


@admin.register(HandlingUnit)
class HandlingUnitAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "head_name", "contact_phone"]
    search_fields = ["name", "short_name"]


@admin.register(StaffMember)
class StaffMemberAdmin(admin.ModelAdmin):
    list_display = ["display_name", "user", "role", "unit", "phone"]
    list_filter = ["role", "unit"]
    search_fields = ["display_name", "user__username"]
    raw_id_fields = ["user"]


class CoHandlingInline(admin.TabularInline):
    model = CoHandling
    extra = 0
    raw_id_fields = ["submitted_by"]


class EventInline(admin.TabularInline):
    model = Event
    extra = 0
    can_delete = False
    fields = ["at", "action", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Suggestion)
class SuggestionAdmin(admin.ModelAdmin):
    list_display = ["number", "title", "session", "lead_deputy", "lead_unit", "status", "due_on",
                    "key_supervision"]
    list_display_links = ["number", "title"]
    list_filter = ["status", "session", "lead_unit", "topic", "key_supervision", "disclosure"]
    search_fields = ["=number", "title", "lead_deputy__name"]
    date_hierarchy = "assigned_on"
    raw_id_fields = ["lead_deputy"]
    filter_horizontal = ["co_deputies"]
    # Status moves go through the workflow (with history), never through a free edit.
    readonly_fields = ["status", "created_at", "updated_at"]
    inlines = [CoHandlingInline, EventInline]
    list_select_related = ["session", "lead_deputy", "lead_unit"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["at", "suggestion", "action", "from_status", "to_status", "actor", "internal"]
    list_filter = ["action", "internal"]
    search_fields = ["note", "object_label", "suggestion__title", "actor__username"]
    date_hierarchy = "at"
    list_select_related = ["suggestion__session", "actor"]

    # The audit trail is immutable, in the admin too.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StaffMemberInline(admin.StackedInline):
    model = StaffMember
    extra = 0
    max_num = 1


class DeputyInline(admin.StackedInline):
    model = Deputy
    extra = 0
    max_num = 1
    fields = ["name", "work_unit", "phone", "delegation"]


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserWithRoleAdmin(UserAdmin):
    """User management with the role (office, unit staff or deputy) on the same page."""

    inlines = [StaffMemberInline, DeputyInline]
