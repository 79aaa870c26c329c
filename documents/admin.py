from django.contrib import admin

from .models import ExportJob


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["created_at", "created_by", "status", "done", "total", "file_size"]
    list_filter = ["status"]
    search_fields = ["description", "created_by__username"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in ExportJob._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
