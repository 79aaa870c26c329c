"""System checks for what PDF rendering needs from the machine."""

from django.core.checks import Error, Tags, Warning, register

from . import fonts


@register(Tags.compatibility)
def check_harfbuzz_subset(app_configs=None, **kwargs):
    messages = []
    if not fonts.weasyprint_subsetter_available():
        messages.append(Warning(
            "HarfBuzz's subsetting library (libharfbuzz-subset.so.0) is missing.",
            hint=(
                "Without it WeasyPrint subsets fonts with fontTools and a reply letter takes "
                "seconds instead of a tenth of a second. Install the Debian package "
                "libharfbuzz-subset0 (make system-deps)."
            ),
            id="documents.W001",
        ))
    if not fonts.uharfbuzz_available():
        messages.append(Warning(
            "uharfbuzz is not installed: the PDF fonts cannot be prepared.",
            hint=(
                "Every letter then embeds subsets of the full system fonts (65,000 glyphs a "
                "face), several times slower. Install the project's Python dependencies "
                "(make install)."
            ),
            id="documents.W002",
        ))
    return messages


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


@register(Tags.security, deploy=True)
def check_verification_key(app_configs=None, **kwargs):
    """The key of the signed letters' fingerprints: set, not the development one, not SECRET_KEY."""
    from django.conf import settings

    key = getattr(settings, "VERIFICATION_KEY", "")
    development = key == getattr(settings, "VERIFICATION_KEY_DEVELOPMENT", None)
    if not key or (development and not (settings.DEBUG or getattr(settings, "TESTING", False))):
        return [
            Error(
                "VERIFICATION_KEY is not set (or is the development key): signed letters can "
                "be neither fingerprinted nor verified, or their fingerprints can be forged.",
                hint=(
                    "Set the VERIFICATION_KEY environment variable to a long random value of "
                    "its own (e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))') "
                    "and keep it: letters signed under one key are reported as not matching "
                    "under another."
                ),
                id="documents.E002",
            )
        ]
    if key == settings.SECRET_KEY:
        return [
            Warning(
                "VERIFICATION_KEY is the same as SECRET_KEY.",
                hint="Give it a value of its own, so that rotating SECRET_KEY does not void "
                     "every signed letter's fingerprint.",
                id="documents.W003",
            )
        ]
    return []
