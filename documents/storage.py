"""Where export zips are kept: ``storages["exports"]`` (see STORAGES in config/settings.py)."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class ExportStorage(FileSystemStorage):
    """Export zips on this machine's disk, under EXPORT_ROOT (as the default storage is under
    MEDIA_ROOT), following the setting when it changes (tests)."""

    def __init__(self, location=None, **kwargs):
        super().__init__(location=location, base_url="/exports-not-served/", **kwargs)

    @property
    def base_location(self):
        return self._value_or_setting(self._location, settings.EXPORT_ROOT)

    @property
    def location(self):
        import os

        return os.path.abspath(self.base_location)
