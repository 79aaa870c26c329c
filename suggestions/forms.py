from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import OnceMixin

from .models import CoHandling, HandlingUnit, Suggestion


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class SuggestionForm(OnceMixin, forms.ModelForm):
    class Meta:
        model = Suggestion
        fields = [
            "session", "number", "title", "content", "lead_deputy", "co_deputies", "topic",
            "submitted_on", "key_supervision", "disclosure",
        ]
        widgets = {
            "content": forms.Textarea(attrs={"rows": 8}),
            "co_deputies": forms.SelectMultiple(attrs={"size": 6}),
            "submitted_on": DateInput(),
        }

    def clean(self):
        data = super().clean()
        lead, co = data.get("lead_deputy"), data.get("co_deputies")
        if lead and co and lead in co:
            self.add_error(
                "co_deputies", _("The lead deputy cannot also be a co-signing deputy.")
            )
        content = (data.get("content") or "").strip()
        if content:
            from core.sanitize import html_to_text, sanitize_html

            if not html_to_text(sanitize_html(content)):
                self.add_error("content", _("The main content is empty once formatting is removed."))
        return data


class AssignForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=_("Lead unit"), queryset=HandlingUnit.objects.all(),
    )
    co_units = forms.ModelMultipleChoiceField(
        label=_("Co-handling units"), queryset=HandlingUnit.objects.all(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        unit, co_units = data.get("unit"), data.get("co_units") or []
        if unit and unit in co_units:
            self.add_error("co_units", _("The lead unit cannot also be a co-handling unit."))
        return data


class ReassignForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("New lead unit"), queryset=HandlingUnit.objects.all())
    note = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class ExtendForm(forms.Form):
    new_due = forms.DateField(label=_("New due date"), widget=DateInput())
    note = forms.CharField(
        label=_("Written approval / reason"), widget=forms.Textarea(attrs={"rows": 2})
    )


class ExtensionRequestForm(forms.Form):
    """The lead unit asks the congress office for a later due date."""

    new_due = forms.DateField(label=_("Proposed due date"), widget=DateInput())
    reason = forms.CharField(label=_("Reason"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))


class ApproveExtensionForm(forms.Form):
    """The office approves a unit's request, for the proposed date or another one."""

    new_due = forms.DateField(label=_("New due date"), widget=DateInput())
    note = forms.CharField(label=_("Written approval / note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class CoOpinionForm(forms.ModelForm):
    class Meta:
        model = CoHandling
        fields = ["opinion"]
        widgets = {"opinion": forms.Textarea(attrs={"rows": 6})}

    def clean_opinion(self):
        value = self.cleaned_data["opinion"].strip()
        if not value:
            raise forms.ValidationError(_("The opinion cannot be empty."))
        return value
