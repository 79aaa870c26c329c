"""Writes on replies: drafting from the unit's template, sign-off, sending, versions, ratings.

The reply's own small state machine (draft → awaiting sign-off → signed → sent) is the table
``REPLY_MOVES``; moving the suggestion itself is left to ``suggestions.workflow``.
"""

from __future__ import annotations

import datetime
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.locking import save_with_lock
from core.roles import Role, display_name, role_of, user_unit_id
from suggestions.models import Deputy, Rating, Status, Suggestion
from suggestions.workflow import WorkflowError, record_event, transition

from .models import LETTER_FIELDS, Evaluation, Reply, ReplyStatus

DEFAULT_CLOSING = "感谢您对我们工作的关心和支持，欢迎今后提出更多宝贵意见。"
EDITABLE_FIELDS = [f for f in LETTER_FIELDS if f not in ("issuing_unit_name", "signer_name")]

# (from, to): roles allowed. Unit roles must belong to the reply's issuing unit.
REPLY_MOVES = {
    (ReplyStatus.DRAFT, ReplyStatus.PENDING): {Role.HANDLER, Role.HEAD},
    (ReplyStatus.PENDING, ReplyStatus.DRAFT): {Role.HEAD},
    (ReplyStatus.PENDING, ReplyStatus.SIGNED): {Role.HEAD},
    (ReplyStatus.SIGNED, ReplyStatus.SENT): {Role.HANDLER, Role.HEAD, Role.OFFICE, Role.ADMIN},
}


def letter_title(suggestion: Suggestion) -> str:
    return f"关于{suggestion.session.name}第{suggestion.number}号建议的回复"


def salutation_for(deputies: list[Deputy]) -> str:
    """苏红平代表： for one deputy; 纪占斌等3名代表： for several."""
    if len(deputies) == 1:
        return f"{deputies[0].name}代表："
    return f"{deputies[0].name}等{len(deputies)}名代表："


def opening_for(suggestion: Suggestion, deputies: list[Deputy]) -> str:
    you = "您" if len(deputies) == 1 else "你们"
    units = [co.unit.name for co in suggestion.co_handlings.select_related("unit")]
    studied = f"经与{'、'.join(units)}会商研究" if units else "经认真研究"
    return f"{you}提出的《{suggestion.title}》已收悉。{studied}，现答复如下："


def current_reply(suggestion: Suggestion) -> Reply | None:
    return suggestion.replies.order_by("-version").first()


def _check_move(reply: Reply, user, target: str) -> None:
    roles = REPLY_MOVES.get((reply.status, target))
    if roles is None:
        raise WorkflowError(
            _("This is not possible while the reply is “%(status)s”.")
            % {"status": reply.get_status_display()}
        )
    role = role_of(user)
    if role not in roles:
        raise WorkflowError(_("You are not allowed to do this."))
    if role in (Role.HANDLER, Role.HEAD) and user_unit_id(user) != reply.issuing_unit_id:
        raise WorkflowError(_("Only the issuing unit can do this."))


def _check_can_draft(suggestion: Suggestion, user, previous: Reply | None) -> None:
    if role_of(user) not in (Role.HANDLER, Role.HEAD):
        raise WorkflowError(_("Only the lead unit's staff draft replies."))
    if user_unit_id(user) != suggestion.lead_unit_id:
        raise WorkflowError(_("Only the lead handling unit drafts the reply."))
    if suggestion.status not in (Status.HANDLING, Status.REHANDLING):
        raise WorkflowError(
            _("Accept the assignment first: a reply is drafted while the suggestion is in handling.")
        )
    if previous is not None and not previous.is_frozen:
        raise WorkflowError(_("There is already an unsigned reply: edit that one."))


def can_draft(suggestion: Suggestion, user, latest: Reply | None) -> bool:
    """Whether to offer "draft the reply"; the same rule reply_create_draft enforces."""
    try:
        _check_can_draft(suggestion, user, latest)
    except WorkflowError:
        return False
    return True


@transaction.atomic
def reply_create_draft(
    *, suggestion: Suggestion, user, at: datetime.datetime | None = None
) -> Reply:
    """A new draft, pre-filled as the seed letter is written, or a new version of the last one."""
    suggestion = Suggestion.objects.select_for_update().get(pk=suggestion.pk)
    previous = current_reply(suggestion)
    _check_can_draft(suggestion, user, previous)
    unit = suggestion.lead_unit
    member = getattr(user, "staff_member", None)
    if previous is not None:
        # A changed reply is a new version; the signed one stays on record as it was.
        values = {name: getattr(previous, name) for name in LETTER_FIELDS}
        values["letter_date"] = None
        reply = Reply(**values, version=previous.version + 1)
    else:
        deputies = suggestion.deputies()
        latest = suggestion.consultations.exclude(proposed_category="").order_by("-held_on").first()
        closing = unit.reply_closing or DEFAULT_CLOSING
        reply = Reply(
            title=letter_title(suggestion),
            salutation=salutation_for(deputies),
            body=f"{opening_for(suggestion, deputies)}\n\n{closing}",
            category=latest.proposed_category if latest else "",
            disclosure=suggestion.disclosure,
            handler_name=display_name(user),
            contact_phone=(member.phone if member and member.phone else unit.contact_phone),
        )
    reply.suggestion = suggestion
    reply.issuing_unit = unit
    reply.issuing_unit_name = unit.name
    reply.signer_name = unit.head_name
    reply.created_by = user
    reply.save()
    record_event(
        suggestion, actor=user, action="reply_created", object_label=str(reply), internal=True,
        at=at,
    )
    return reply


def reply_update_draft(*, reply: Reply, user, data: dict, expected_version: int) -> Reply:
    """Save the editor's fields; refuses a signed reply and a stale form (StaleEdit)."""
    if reply.is_frozen:
        raise WorkflowError(_("This reply is signed and can no longer be edited; "
                              "create a new version instead."))
    if reply.status != ReplyStatus.DRAFT:
        raise WorkflowError(_("The reply is awaiting sign-off; ask the person in charge to "
                              "return it before editing."))
    if role_of(user) not in (Role.HANDLER, Role.HEAD) or user_unit_id(user) != reply.issuing_unit_id:
        raise WorkflowError(_("Only the issuing unit can edit this reply."))
    for name in EDITABLE_FIELDS:
        if name in data:
            setattr(reply, name, data[name])
    save_with_lock(
        reply, expected_version=expected_version, fields=EDITABLE_FIELDS,
        only_if={"status": ReplyStatus.DRAFT},
    )
    return reply


@transaction.atomic
def reply_submit(*, reply: Reply, user, at: datetime.datetime | None = None) -> Reply:
    reply = Reply.objects.select_for_update().get(pk=reply.pk)
    _check_move(reply, user, ReplyStatus.PENDING)
    if not _has_real_body(reply):
        raise WorkflowError(_("Write the body of the reply before submitting it for sign-off."))
    reply.status, reply.submitted_at = ReplyStatus.PENDING, at or timezone.now()
    reply.save(update_fields=["status", "submitted_at", "updated_at"])
    record_event(reply.suggestion, actor=user, action="reply_submitted", object_label=str(reply),
                 internal=True, at=at)
    return reply


@transaction.atomic
def reply_return(*, reply: Reply, user, note: str) -> Reply:
    reply = Reply.objects.select_for_update().get(pk=reply.pk)
    _check_move(reply, user, ReplyStatus.DRAFT)
    if not (note or "").strip():
        raise WorkflowError(_("Please say what should change."))
    reply.status = ReplyStatus.DRAFT
    reply.save(update_fields=["status", "updated_at"])
    record_event(reply.suggestion, actor=user, action="reply_returned", note=note.strip(),
                 object_label=str(reply), internal=True)
    return reply


@transaction.atomic
def reply_sign(
    *, reply: Reply, user, at: datetime.datetime | None = None
) -> Reply:
    """负责人签发: freezes the letter, fixes its date, fingerprint and verification code."""
    reply = Reply.objects.select_for_update().get(pk=reply.pk)
    _check_move(reply, user, ReplyStatus.SIGNED)
    if not _has_real_body(reply):
        raise WorkflowError(_("A reply without a body cannot be signed."))
    at = at or timezone.now()
    reply.signer_name = display_name(user)
    reply.letter_date = reply.letter_date or timezone.localtime(at).date()
    reply.status, reply.signed_at, reply.signed_by = ReplyStatus.SIGNED, at, user
    reply.content_hash = reply.compute_hash()
    reply.verification_code = _new_code()
    reply.save()
    record_event(reply.suggestion, actor=user, action="reply_signed", object_label=str(reply),
                 note=_("Signed by %(name)s") % {"name": reply.signer_name}, at=at)
    return reply


@transaction.atomic
def reply_send(*, reply: Reply, user, at: datetime.datetime | None = None) -> Reply:
    """Mark the signed reply as sent to every deputy; the suggestion becomes replied."""
    reply = Reply.objects.select_for_update().get(pk=reply.pk)
    _check_move(reply, user, ReplyStatus.SENT)
    latest = current_reply(reply.suggestion)
    if latest.pk != reply.pk:
        raise WorkflowError(_("A newer version of this reply exists; send that one."))
    transition(reply.suggestion, name="reply", user=user, reply=reply, at=at,
               note=str(reply))
    reply.status, reply.sent_at = ReplyStatus.SENT, at or timezone.now()
    reply.save(update_fields=["status", "sent_at", "updated_at"])
    return reply


@transaction.atomic
def reply_evaluate(
    *, reply: Reply, user, deputy: Deputy, attitude: str, result: str, comment: str = "",
    source: str = Evaluation.Source.ONLINE, at: datetime.datetime | None = None,
) -> Evaluation:
    """测评. 不满意 sends the suggestion back to handling for a new reply version."""
    reply = Reply.objects.select_for_update().get(pk=reply.pk)
    if reply.status != ReplyStatus.SENT:
        raise WorkflowError(_("Only a sent reply can be evaluated."))
    if current_reply(reply.suggestion).pk != reply.pk:
        raise WorkflowError(_("A newer reply exists; evaluate that one."))
    suggestion = reply.suggestion
    if deputy not in suggestion.deputies():
        raise WorkflowError(_("Only the deputies of this suggestion can evaluate its reply."))
    if role_of(user) == Role.DEPUTY and getattr(user, "deputy", None) != deputy:
        raise WorkflowError(_("You can only give your own evaluation."))
    if Evaluation.objects.filter(reply=reply, deputy=deputy).exists():
        raise WorkflowError(_("This deputy has already evaluated this reply."))
    valid = set(Rating.values)
    if attitude not in valid or result not in valid:
        raise WorkflowError(_("Choose a rating for both the attitude and the result."))
    evaluation = Evaluation.objects.create(
        reply=reply, deputy=deputy, attitude=attitude, result=result, comment=comment.strip(),
        source=source, recorded_by=user,
    )
    note = _("%(deputy)s: attitude %(attitude)s, result %(result)s") % {
        "deputy": deputy.name, "attitude": evaluation.get_attitude_display(),
        "result": evaluation.get_result_display(),
    }
    if comment.strip():
        note += f"。{comment.strip()}"
    name = "rehandle" if evaluation.is_unsatisfied else "evaluate"
    transition(suggestion, name=name, user=user, note=note, at=at)
    return evaluation


def _has_real_body(reply: Reply) -> bool:
    """More than the template's opening (…现答复如下：) and closing thanks."""
    lines = [line.strip() for line in (reply.body or "").splitlines() if line.strip()]
    return any(not (line.endswith("现答复如下：") or line.startswith("感谢")) for line in lines)


def _new_code() -> str:
    # Unambiguous upper-case letters and digits, 12 characters: about 60 bits.
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    while True:
        code = "".join(secrets.choice(alphabet) for _ in range(12))
        if not Reply.objects.filter(verification_code=code).exists():
            return code
