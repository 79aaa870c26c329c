"""The reply letter's moves (draft → awaiting sign-off → signed → sent, ratings), declared for
the rule engine, and the writes around them: drafting from the unit's template, versions.

Drafting is a move on the suggestion (``draft_reply``); the others are moves on the reply.
Sending a reply makes the suggestion's own ``reply`` move; a rating may make ``evaluate`` or
``rehandle``. Reassigning a suggestion withdraws the old unit's unsigned drafts.
"""

from __future__ import annotations

import datetime
import secrets

from django.db.models import Exists, F, OuterRef, Q
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import rules
from core.locking import save_with_lock
from core.roles import Role, display_name, user_unit_id
from core.rules import EVERYTHING, Move, Scope, WorkflowError
from suggestions import search, workflow
from suggestions.models import Deputy, Rating, Status, Suggestion
from suggestions.workflow import (
    COORDINATORS,
    LEAD_STAFF,
    OPEN_FOR_HANDLING,
    deciding_rating,
    describe_changes,
    record_event,
)

from .models import LETTER_FIELDS, Evaluation, Reply, ReplyStatus

DEFAULT_CLOSING = "感谢您对我们工作的关心和支持，欢迎今后提出更多宝贵意见。"
EDITABLE_FIELDS = [f for f in LETTER_FIELDS if f not in ("issuing_unit_name", "signer_name")]
UNSIGNED = (ReplyStatus.DRAFT, ReplyStatus.PENDING)


def letter_title(suggestion: Suggestion) -> str:
    return f"关于{suggestion.session.name}第{suggestion.number}号建议的回复"


def salutation_for(deputies: list[Deputy]) -> str:
    """苏红平代表： for one deputy; 纪占斌等3名代表： for several."""
    if len(deputies) == 1:
        return f"{deputies[0].name}代表："
    return f"{deputies[0].name}等{len(deputies)}名代表："


def addressee(deputies: list[Deputy]) -> str:
    """您 for one deputy, 你们 for several: the same word throughout the letter."""
    return "您" if len(deputies) == 1 else "你们"


def opening_for(suggestion: Suggestion, deputies: list[Deputy]) -> str:
    # Only units whose opinion is in may be named as consulted (经与…会商研究).
    units = [
        co.unit.name
        for co in suggestion.co_handlings.select_related("unit").filter(submitted_at__isnull=False)
    ]
    studied = f"经与{'、'.join(units)}会商研究" if units else "经认真研究"
    return f"{addressee(deputies)}提出的《{suggestion.title}》已收悉。{studied}，现答复如下："


def closing_for(unit, deputies: list[Deputy]) -> str:
    closing = unit.reply_closing or DEFAULT_CLOSING
    return closing.replace("您", addressee(deputies))


def current_reply(suggestion: Suggestion) -> Reply | None:
    return suggestion.replies.exclude(status=ReplyStatus.WITHDRAWN).order_by("-version").first()


def latest_sent(suggestion: Suggestion) -> Reply | None:
    return suggestion.replies.filter(status=ReplyStatus.SENT).order_by("-version").first()


# --- Scopes over Reply ---

def _issuing_unit(user) -> Q:
    unit = user_unit_id(user)
    return Q(issuing_unit_id=unit) if unit else Q(pk__in=[])


def _reply_deputy(user) -> Q:
    deputy = getattr(user, "deputy", None)
    if deputy is None:
        return Q(pk__in=[])
    cosigned = Suggestion.co_deputies.through.objects.filter(
        suggestion_id=OuterRef("suggestion_id"), deputy_id=deputy.pk
    )
    return Q(suggestion__lead_deputy_id=deputy.pk) | Q(Exists(cosigned))


ISSUING_UNIT = Scope("issuing_unit", _issuing_unit,
                     gettext_lazy("Only the issuing unit can do this."))
REPLY_DEPUTY = Scope("reply_deputy", _reply_deputy,
                     gettext_lazy("Only the deputies of this suggestion can evaluate its reply."))
ISSUERS = {Role.HANDLER: ISSUING_UNIT, Role.HEAD: ISSUING_UNIT}


def _in_handling(user) -> Q:
    return Q(suggestion__status__in=OPEN_FOR_HANDLING, issuing_unit_id=F("suggestion__lead_unit_id"))


def _newer_version() -> Exists:
    return Exists(Reply.objects.filter(
        suggestion_id=OuterRef("suggestion_id"), version__gt=OuterRef("version"),
    ).exclude(status=ReplyStatus.WITHDRAWN))


def _newer_sent() -> Exists:
    return Exists(Reply.objects.filter(
        suggestion_id=OuterRef("suggestion_id"), version__gt=OuterRef("version"),
        status=ReplyStatus.SENT,
    ))


def _not_rated_by(user) -> Q:
    deputy = getattr(user, "deputy", None)
    rated = Evaluation.objects.filter(reply_id=OuterRef("pk"), deputy_id=getattr(deputy, "pk", None))
    return ~Q(Exists(rated)) & ~Q(_newer_sent())


# --- Checks and effects ---

def _has_real_body(reply: Reply) -> bool:
    """More than the template's opening (…现答复如下：) and closing thanks."""
    lines = [line.strip() for line in (reply.body or "").splitlines() if line.strip()]
    return any(not (line.endswith("现答复如下：") or line.startswith("感谢")) for line in lines)


def _check_body(reply: Reply, user, params: dict) -> None:
    if not _has_real_body(reply):
        raise WorkflowError(_("Write the body of the reply before submitting it for sign-off."))


def _check_co_opinions(reply: Reply, user, params: dict) -> None:
    """The letter says it was studied with the co-units: their opinions must be in first."""
    suggestion = reply.suggestion
    if suggestion.co_opinions_waived:
        return
    missing = [
        co.unit.name
        for co in suggestion.co_handlings.select_related("unit")
        if co.required and co.submitted_at is None
    ]
    if missing:
        raise WorkflowError(
            _("Waiting for the opinion of the co-handling units: %(units)s. "
              "The congress office can waive this.") % {"units": "、".join(missing)}
        )


def _check_own_number(reply: Reply, user, params: dict) -> None:
    """A new version is a new document: it may not reuse an earlier version's number."""
    if not reply.doc_number:
        return
    earlier = (
        Reply.objects.filter(suggestion_id=reply.suggestion_id, doc_number=reply.doc_number)
        .exclude(pk=reply.pk).order_by("version").first()
    )
    if earlier is not None:
        raise WorkflowError(
            _("Document number %(number)s was already used by version %(version)d of this reply; "
              "give the new version its own number.")
            % {"number": reply.doc_number, "version": earlier.version}
        )


def _apply_submit(reply: Reply, user, params: dict) -> None:
    reply.submitted_at = params.get("at") or timezone.now()


def _apply_sign(reply: Reply, user, params: dict) -> None:
    """负责人签发: freezes the letter, fixes its date, fingerprint and verification code."""
    at = params.get("at") or timezone.now()
    reply.signer_name = display_name(user)
    reply.letter_date = reply.letter_date or timezone.localtime(at).date()
    reply.signed_at, reply.signed_by = at, user
    # The code is printed on the letter and shown on verification: the fingerprint covers it.
    reply.verification_code = _new_code()
    reply.content_hash = reply.compute_hash()
    params["label_note"] = _("Signed by %(name)s") % {"name": reply.signer_name}


def _apply_send(reply: Reply, user, params: dict) -> None:
    rules.run(reply.suggestion, "reply", user=user, note=str(reply), reply=reply,
              at=params.get("at"))
    reply.sent_at = params.get("at") or timezone.now()


def _check_rating(reply: Reply, user, params: dict) -> None:
    deputy = params.get("deputy")
    suggestion = reply.suggestion
    if deputy is None or deputy not in suggestion.deputies():
        raise WorkflowError(_("Only the deputies of this suggestion can evaluate its reply."))
    if Evaluation.objects.filter(reply=reply, deputy=deputy).exists():
        raise WorkflowError(_("This deputy has already evaluated this reply."))
    valid = set(Rating.values)
    if params.get("attitude") not in valid or params.get("result") not in valid:
        raise WorkflowError(_("Choose a rating for both the attitude and the result."))


def _check_own_rating(reply: Reply, user, params: dict) -> None:
    if getattr(user, "deputy", None) != params.get("deputy"):
        raise WorkflowError(_("You can only give your own evaluation."))


def _apply_rating(reply: Reply, user, params: dict) -> Evaluation:
    """测评. The rating that counts (one setting, ``deciding_rating``) may send the suggestion
    back for re-handling; every other rating is recorded as it is."""
    deputy, comment = params["deputy"], (params.get("comment") or "").strip()
    evaluation = Evaluation.objects.create(
        reply=reply, deputy=deputy, attitude=params["attitude"], result=params["result"],
        comment=comment, source=params.get("source", Evaluation.Source.ONLINE), recorded_by=user,
    )
    suggestion = Suggestion.objects.select_for_update().get(pk=reply.suggestion_id)
    deciding = deciding_rating(
        list(reply.evaluations.values_list("deputy_id", "result")), suggestion.lead_deputy_id
    )
    if deciding:
        Suggestion.objects.filter(pk=suggestion.pk).update(rating=deciding)
    note = _("%(deputy)s: attitude %(attitude)s, result %(result)s") % {
        "deputy": deputy.name, "attitude": evaluation.get_attitude_display(),
        "result": evaluation.get_result_display(),
    }
    if comment:
        note += f"。{comment}"
    if deciding == Rating.UNSATISFIED and suggestion.status in (Status.REPLIED, Status.EVALUATED):
        rules.run(suggestion, "rehandle", user=user, note=note, at=params.get("at"))
    elif deciding and suggestion.status == Status.REPLIED:
        rules.run(suggestion, "evaluate", user=user, note=note, at=params.get("at"))
    else:
        record_event(suggestion, actor=user, action="evaluation", note=note, at=params.get("at"))
    return evaluation


def _apply_draft(suggestion: Suggestion, user, params: dict) -> Reply:
    """A new draft, pre-filled as the seed letter is written, or a new version of the last
    signed letter of the same unit (which stays on record as it was)."""
    unit = suggestion.lead_unit
    member = getattr(user, "staff_member", None)
    previous = current_reply(suggestion)
    top = suggestion.replies.order_by("-version").values_list("version", flat=True).first() or 0
    if previous is not None and previous.is_frozen and previous.issuing_unit_id == unit.pk:
        values = {name: getattr(previous, name) for name in LETTER_FIELDS}
        # A new version is a new document: a new date and a number of its own.
        values["letter_date"], values["doc_number"] = None, ""
        reply = Reply(**values, version=top + 1)
    else:
        deputies = suggestion.deputies()
        latest = suggestion.consultations.exclude(proposed_category="").order_by("-held_on").first()
        reply = Reply(
            title=letter_title(suggestion),
            salutation=salutation_for(deputies),
            body=f"{opening_for(suggestion, deputies)}\n\n{closing_for(unit, deputies)}",
            category=latest.proposed_category if latest else "",
            disclosure=suggestion.disclosure,
            handler_name=display_name(user),
            contact_phone=(member.phone if member and member.phone else unit.contact_phone),
            version=top + 1,
        )
    reply.suggestion = suggestion
    reply.issuing_unit = unit
    reply.issuing_unit_name = unit.name
    reply.signer_name = unit.head_name
    reply.created_by = user
    reply.save()
    params["label"] = str(reply)
    return reply


def _withdraw_drafts(suggestion: Suggestion, user, params: dict) -> None:
    """On reassignment the old unit's unsigned drafts are withdrawn, kept on record."""
    old_unit = params.get("previous_unit_id")
    if not old_unit or old_unit == suggestion.lead_unit_id:
        return
    drafts = list(suggestion.replies.filter(issuing_unit_id=old_unit, status__in=UNSIGNED))
    for reply in drafts:
        Reply.objects.filter(pk=reply.pk).update(status=ReplyStatus.WITHDRAWN)
        record_event(suggestion, actor=user, action="reply_withdrawn", internal=True,
                     object_label=str(reply), note=reply.issuing_unit_name)


def _log(reply: Reply, *, user, move: Move, source: str, note: str, params: dict) -> None:
    if move.name in ("rate", "rate_paper", "send"):
        return  # these write their own event on the suggestion (evaluate, rehandle, reply)
    record_event(
        reply.suggestion, actor=user, action=move.action,
        note=note or str(params.get("label_note") or ""),
        object_label=str(reply), internal=move.internal, at=params.get("at"),
    )


MACHINE = rules.machine(Reply, log=_log)
MACHINE.add(
    Move("edit", gettext_lazy("Edit the draft"), frozenset({ReplyStatus.DRAFT}), None, ISSUERS,
         where=_in_handling, where_refusal=gettext_lazy("The suggestion is not in handling."),
         ui="link:replies:edit", save_fields=()),
    Move("submit", gettext_lazy("Submit for sign-off"), frozenset({ReplyStatus.DRAFT}),
         ReplyStatus.PENDING, ISSUERS, where=_in_handling,
         where_refusal=gettext_lazy("The suggestion is not in handling."),
         checks=(_check_body, _check_co_opinions), effects=(_apply_submit,),
         event="reply_submitted", internal=True, primary=True),
    Move("return", gettext_lazy("Return to the handler"), frozenset({ReplyStatus.PENDING}),
         ReplyStatus.DRAFT, {Role.HEAD: ISSUING_UNIT}, needs_note=True,
         event="reply_returned", internal=True),
    Move("sign", gettext_lazy("Sign off"), frozenset({ReplyStatus.PENDING}), ReplyStatus.SIGNED,
         {Role.HEAD: ISSUING_UNIT}, where=_in_handling,
         where_refusal=gettext_lazy("The suggestion is not in handling."),
         checks=(_check_body, _check_co_opinions, _check_own_number), effects=(_apply_sign,),
         event="reply_signed", primary=True,
         confirm=gettext_lazy("Sign off this letter? It is then frozen and cannot be changed.")),
    Move("send", gettext_lazy("Mark as sent to the deputies"), frozenset({ReplyStatus.SIGNED}),
         ReplyStatus.SENT, ISSUERS | {Role.OFFICE: EVERYTHING, Role.ADMIN: EVERYTHING},
         where=lambda user: _in_handling(user) & ~Q(_newer_version()),
         where_refusal=gettext_lazy("A newer version of this reply exists, or the suggestion "
                                    "is not in handling."),
         effects=(_apply_send,), event="reply_sent", primary=True),
    Move("rate", gettext_lazy("Evaluate the reply"), frozenset({ReplyStatus.SENT}), None,
         {Role.DEPUTY: REPLY_DEPUTY}, where=_not_rated_by,
         where_refusal=gettext_lazy("You have already evaluated this reply, or a newer reply "
                                    "was sent."),
         checks=(_check_own_rating, _check_rating), effects=(_apply_rating,), ui="",
         save_fields=()),
    Move("rate_paper", gettext_lazy("Record a paper evaluation"), frozenset({ReplyStatus.SENT}),
         None, COORDINATORS, where=lambda user: ~Q(_newer_sent()),
         where_refusal=gettext_lazy("A newer reply was sent; evaluate that one."),
         checks=(_check_rating,), effects=(_apply_rating,), ui="", save_fields=()),
)

workflow.MACHINE.add(
    Move("draft_reply", gettext_lazy("Draft the reply"), OPEN_FOR_HANDLING, None, LEAD_STAFF,
         where=lambda user: ~Q(Exists(Reply.objects.filter(
             suggestion_id=OuterRef("pk"), status__in=UNSIGNED))),
         where_refusal=gettext_lazy("There is already an unsigned reply: edit that one."),
         effects=(_apply_draft,), event="reply_created", internal=True, ui="",
         save_fields=()),
)
workflow.MACHINE.extend("reassign", effects=[_withdraw_drafts])


# The list's search finds a suggestion by the document numbers of its signed letters.
@search.register_source
def _signed_numbers(suggestion_ids: list[int]):
    return (Reply.objects.filter(suggestion_id__in=suggestion_ids, signed_at__isnull=False)
            .exclude(doc_number="").values_list("suggestion_id", "doc_number"))


@receiver(post_save, sender=Reply, dispatch_uid="search_signed_number")
def _number_signed(sender, instance: Reply, raw=False, **kwargs) -> None:
    if not raw and instance.status == ReplyStatus.SIGNED and instance.doc_number:
        search.refresh_search([instance.suggestion_id])


# --- Entry points kept for callers (commands, demo, tests) ---

def reply_create_draft(*, suggestion: Suggestion, user, at: datetime.datetime | None = None) -> Reply:
    return rules.run(suggestion, "draft_reply", user=user, at=at)


def reply_submit(*, reply: Reply, user, at: datetime.datetime | None = None) -> Reply:
    return rules.run(reply, "submit", user=user, at=at)


def reply_return(*, reply: Reply, user, note: str) -> Reply:
    return rules.run(reply, "return", user=user, note=note)


def reply_sign(*, reply: Reply, user, at: datetime.datetime | None = None) -> Reply:
    return rules.run(reply, "sign", user=user, at=at)


def reply_send(*, reply: Reply, user, at: datetime.datetime | None = None) -> Reply:
    return rules.run(reply, "send", user=user, at=at)


def reply_evaluate(
    *, reply: Reply, user, deputy: Deputy, attitude: str, result: str, comment: str = "",
    source: str = Evaluation.Source.ONLINE, at: datetime.datetime | None = None,
) -> Evaluation:
    name = "rate" if source == Evaluation.Source.ONLINE else "rate_paper"
    return rules.run(reply, name, user=user, deputy=deputy, attitude=attitude, result=result,
                     comment=comment, source=source, at=at)


EDIT_LABELS = {
    "title": gettext_lazy("letter title"), "doc_number": gettext_lazy("document number"),
    "salutation": gettext_lazy("salutation"), "body": gettext_lazy("body"),
    "category": gettext_lazy("handling category"), "disclosure": gettext_lazy("disclosure"),
    "handler_name": gettext_lazy("handler"), "contact_phone": gettext_lazy("contact phone"),
    "letter_date": gettext_lazy("letter date"), "copy_to": gettext_lazy("copy to"),
}


def reply_update_draft(*, reply: Reply, user, data: dict, expected_version: int) -> Reply:
    """Save the editor's fields (StaleEdit if someone saved meanwhile); log what changed."""
    rules.check(reply, "edit", user)
    before = {name: getattr(reply, name) for name in EDITABLE_FIELDS}
    for name in EDITABLE_FIELDS:
        if name in data:
            setattr(reply, name, data[name])
    save_with_lock(
        reply, expected_version=expected_version, fields=EDITABLE_FIELDS,
        only_if={"status": ReplyStatus.DRAFT},
    )
    after = {name: getattr(reply, name) for name in EDITABLE_FIELDS}
    changes = describe_changes(before, after, {k: str(v) for k, v in EDIT_LABELS.items()})
    if changes:
        record_event(reply.suggestion, actor=user, action="reply_edited", note=changes,
                     object_label=str(reply), internal=True)
    return reply


def _new_code() -> str:
    # Unambiguous upper-case letters and digits, 12 characters: about 60 bits.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        code = "".join(secrets.choice(alphabet) for _ in range(12))
        if not Reply.objects.filter(verification_code=code).exists():
            return code
