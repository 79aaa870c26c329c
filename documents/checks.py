"""System checks for what PDF rendering needs from the machine."""

from django.core.checks import Error, Tags, Warning, register

from . import fonts


@register(Tags.compatibility)
def check_harfbuzz_subset(app_configs=None, **kwargs):
    if fonts.harfbuzz_subset_available():
        return []
    return [
        Warning(
            "HarfBuzz's subsetting library (libharfbuzz-subset.so.0) is missing.",
            hint=(
                "Without it WeasyPrint subsets fonts with fontTools and a reply letter takes "
                "seconds instead of a tenth of a second. Install the Debian package "
                "libharfbuzz-subset0 (make system-deps)."
            ),
            id="documents.W001",
        )
    ]


@register(Tags.compatibility)
def check_cjk_fonts(app_configs=None, **kwargs):
    if fonts.cjk_font_installed():
        return []
    return [
        Error(
            "No Chinese font of the PDF font stacks is installed: letters would print as boxes.",
            hint=(
                "Install the Debian packages fonts-noto-cjk and fonts-lxgw-wenkai "
                "(make system-deps), or point PDF_FONT_BODY and the other PDF_FONT_* "
                "settings at installed fonts."
            ),
            id="documents.E001",
        )
    ]
