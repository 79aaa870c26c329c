from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db import models
from django.utils.translation import gettext

from .models import CoHandling, CongressSession, Deputy, Event, HandlingUnit, StaffMember, Suggestion
from .workflow import describe_changes, record_event


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


class AuditedAdmin(admin.ModelAdmin):
    """Every change made in the admin is written to the suggestion's log: what changed,
    old → new. The subclass says which suggestion an object belongs to."""

    def audited_suggestion(self, obj):
        return obj.suggestion

    def save_model(self, request, obj, form, change):
        before = type(obj)._default_manager.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        if before is None:
            record_event(self.audited_suggestion(obj), actor=request.user, action="admin_change",
                         note=gettext("Created in the administration"), internal=True,
                         object_label=str(obj)[:200])
            return
        labels = {name: str(form.fields[name].label) for name in form.changed_data
                  if not isinstance(obj._meta.get_field(name), models.ManyToManyField)}
        old = {name: _display(before, name) for name in labels}
        new = {name: _display(obj, name) for name in labels}
        changes = describe_changes(old, new, labels)
        if changes:
            record_event(self.audited_suggestion(obj), actor=request.user, action="admin_change",
                         note=changes, internal=True, object_label=str(obj)[:200])

    def save_related(self, request, form, formsets, change):
        many = {name: form.fields[name] for name in form.changed_data
                if isinstance(form.instance._meta.get_field(name), models.ManyToManyField)}
        old = {name: [str(o) for o in getattr(form.instance, name).all()] for name in many}
        super().save_related(request, form, formsets, change)
        if change and many:
            new = {name: [str(o) for o in getattr(form.instance, name).all()] for name in many}
            changes = describe_changes(old, new, {n: str(f.label) for n, f in many.items()})
            if changes:
                record_event(self.audited_suggestion(form.instance), actor=request.user,
                             action="admin_change", note=changes, internal=True,
                             object_label=str(form.instance)[:200])


def _display(obj, name: str) -> str:
    field = obj._meta.get_field(name)
    if field.choices:
        return str(getattr(obj, f"get_{name}_display")())
    value = getattr(obj, name)
    return "" if value is None else str(value)


class CoHandlingInline(admin.TabularInline):
    """Co-handling units are assigned and opinions sent through the workflow, with history."""

    model = CoHandling
    extra = 0
    fields = ["unit", "required", "due_on", "opinion", "submitted_at", "submitted_by"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class EventInline(admin.TabularInline):
    model = Event
    extra = 0
    can_delete = False
    fields = ["at", "action", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Suggestion)
class SuggestionAdmin(AuditedAdmin):
    list_display = ["number", "title", "session", "lead_deputy", "lead_unit", "status", "due_on",
                    "key_supervision"]
    list_display_links = ["number", "title"]
    list_filter = ["status", "session", "lead_unit", "topic", "key_supervision", "disclosure"]
    search_fields = ["=number", "title", "lead_deputy__name"]
    date_hierarchy = "assigned_on"
    raw_id_fields = ["lead_deputy"]
    filter_horizontal = ["co_deputies"]
    # Workflow fields move only through the workflow (with history), never by a free edit.
    readonly_fields = ["status", "lead_unit", "assigned_on", "accepted_on", "due_on",
                       "due_extended", "key_supervision", "co_opinions_waived", "created_at",
                       "updated_at"]

    def audited_suggestion(self, obj):
        return obj
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
