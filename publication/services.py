"""Publication's moves (withhold, republish, redact: the office's), declared for the rule
engine, and redaction of personal contact details.

A sent reply that allows publication gets its Publication when it is sent (an effect added to
the reply's "send" move), due at once or PUBLISH_AFTER_WORKING_DAYS working days later.
"""

from __future__ import annotations

import datetime
import re
from functools import lru_cache

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import rules
from core.rules import Move, WorkflowError
from replies.models import Reply
from suggestions.workflow import COORDINATORS, add_working_days, record_event

from .models import PUBLISHED_DISCLOSURES, Publication, publications_changed

MASK = "＊＊＊"


@lru_cache(maxsize=8)
def _compiled(patterns: tuple[str, ...]) -> list[re.Pattern]:
    return [re.compile(pattern) for pattern in patterns]


def redact(text: str, passages: list[str] | tuple[str, ...] = ()) -> str:
    """Remove the office's passages and every match of REDACTION_PATTERNS (mobile numbers,
    ID card numbers, e-mail addresses by default)."""
    for passage in sorted({p for p in passages if p}, key=len, reverse=True):
        text = text.replace(passage, MASK)
    for pattern in _compiled(tuple(settings.REDACTION_PATTERNS)):
        text = pattern.sub(MASK, text)
    return text


def public_letter(publication: Publication) -> dict:
    """The letter's parts as the public may read them."""
    reply = publication.reply
    passages = publication.redactions

    def clean(value: str) -> str:
        return redact(value or "", passages)

    return {
        "title": clean(reply.title), "doc_number": clean(reply.doc_number),
        "salutation": clean(reply.salutation), "body": clean(reply.body),
        "signer_name": clean(reply.signer_name), "handler_name": clean(reply.handler_name),
        "contact_phone": clean(reply.contact_phone), "issuing_unit_name": reply.issuing_unit_name,
        "letter_date": reply.letter_date, "copy_to": clean(reply.copy_to),
        "category": reply.category, "disclosure": reply.disclosure,
    }


def refresh_text(publication: Publication) -> None:
    letter = public_letter(publication)
    publication.public_title = letter["title"]
    publication.public_text = "\n".join(
        part for part in (letter["salutation"], letter["body"], letter["copy_to"]) if part
    )


def _publish_on(sent: datetime.date) -> datetime.date:
    days = settings.PUBLISH_AFTER_WORKING_DAYS
    return add_working_days(sent, days) if days else sent


def _schedule(reply: Reply, user, params: dict) -> None:
    """Effect of sending a reply: earlier letters published for the suggestion are replaced;
    this one is published unless its disclosure says otherwise."""
    if Publication.objects.filter(
        reply__suggestion_id=reply.suggestion_id, reply__version__lt=reply.version,
    ).update(replaced=True):
        publications_changed()
    if reply.disclosure not in PUBLISHED_DISCLOSURES:
        return
    sent = timezone.localtime(params.get("at") or timezone.now()).date()
    publication = Publication(reply=reply, publish_on=_publish_on(sent))
    refresh_text(publication)
    publication.save()


def _withhold(publication: Publication, user, params: dict) -> None:
    publication.withheld_reason = params["note"]


def _check_passage(publication: Publication, user, params: dict) -> None:
    passage = (params.get("passage") or "").strip()
    if not passage:
        raise WorkflowError(_("Enter the passage to remove."))
    reply = publication.reply
    letter = "\n".join([reply.title, reply.salutation, reply.body, reply.copy_to,
                        reply.handler_name, reply.contact_phone, reply.doc_number])
    if passage not in letter:
        raise WorkflowError(_("The letter has no such passage; copy it exactly as written."))


def _redact(publication: Publication, user, params: dict) -> None:
    passage = params["passage"].strip()
    if passage not in publication.redactions:
        publication.redactions = [*publication.redactions, passage]
    refresh_text(publication)
    params["label"] = passage


def _log(publication: Publication, *, user, move: Move, source: str, note: str, params: dict) -> None:
    record_event(
        publication.reply.suggestion, actor=user, action=move.action, note=note,
        object_label=str(params.get("label") or publication.reply)[:200], internal=True,
    )


MACHINE = rules.machine(Publication, log=_log)
MACHINE.add(
    Move("withhold", gettext_lazy("Withhold from publication"),
         frozenset({Publication.Status.PUBLIC}), Publication.Status.WITHHELD, COORDINATORS,
         needs_note=True, effects=(_withhold,),
         event="publication_withhold", ui=""),
    Move("republish", gettext_lazy("Publish again"), frozenset({Publication.Status.WITHHELD}),
         Publication.Status.PUBLIC, COORDINATORS, event="publication_republish", ui=""),
    Move("redact", gettext_lazy("Passage removed from the published letter"),
         frozenset(Publication.Status.values), None, COORDINATORS, checks=(_check_passage,),
         effects=(_redact,), event="publication_redact", ui=""),
)
rules.machine(Reply).extend("send", effects=[_schedule])
