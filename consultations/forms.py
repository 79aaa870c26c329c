from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import OnceMixin
from core.uploads import sniff
from suggestions.forms import DateInput
from suggestions.models import Rating, category_choices

from .models import Attachment, Consultation, Signature


class ConsultationForm(OnceMixin, forms.ModelForm):
    lock_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Consultation
        fields = [
            "deputy", "method", "held_on", "held_at", "place", "attendees", "attendee_phone",
            "content_summary", "reply_points", "proposed_category", "deputy_opinion",
            "satisfaction", "signature", "signed_name",
        ]
        widgets = {
            "held_on": DateInput(),
            "held_at": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "content_summary": forms.Textarea(attrs={"rows": 4}),
            "reply_points": forms.Textarea(attrs={"rows": 5}),
            "deputy_opinion": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, suggestion, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deputy"].queryset = (
            type(suggestion.lead_deputy).objects.filter(
                pk__in=[d.pk for d in suggestion.deputies()]
            )
        )
        self.fields["deputy"].initial = suggestion.lead_deputy_id
        self.fields["proposed_category"].choices = [("", "—")] + category_choices()
        self.fields["satisfaction"].choices = [("", "—")] + list(Rating.choices)
        # Online confirmation is the deputy's own act; staff record paper signatures only.
        self.fields["signature"].choices = [
            (Signature.PENDING, Signature.PENDING.label), (Signature.PAPER, Signature.PAPER.label),
        ]
        if self.instance.pk:
            self.fields["lock_version"].initial = self.instance.lock_version

    def clean(self):
        data = super().clean()
        if data.get("signature") == Signature.PAPER and not data.get("signed_name"):
            self.add_error("signed_name", _("Enter the name the deputy signed with."))
        return data


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Attachment.Kind.choices)
    file = forms.FileField(label=_("File"), help_text=_("PDF, PNG or JPEG."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        self.content_type = sniff(upload)
        return upload


class ConfirmForm(forms.Form):
    opinion = forms.CharField(
        label=_("Your opinions and requests"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    agree = forms.BooleanField(
        label=_("I confirm this record of our meeting is accurate."), required=True
    )
