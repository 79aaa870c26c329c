from django import forms
from django.utils.translation import gettext_lazy as _

from suggestions.forms import DateInput
from suggestions.models import Deputy, Rating, category_choices

from .models import Reply


class ReplyForm(forms.ModelForm):
    lock_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Reply
        fields = [
            "title", "doc_number", "salutation", "body", "category", "disclosure",
            "handler_name", "contact_phone", "letter_date", "copy_to",
        ]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 24, "class": "letter-body"}),
            "letter_date": DateInput(),
        }
        help_texts = {
            "letter_date": _("Leave empty to use the date of sign-off."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—")] + category_choices()
        self.fields["lock_version"].initial = self.instance.lock_version

    def clean_copy_to(self):
        value = self.cleaned_data["copy_to"].strip()
        # 抄送 ends with 。 in an official letter.
        if value and not value.endswith("。"):
            value += "。"
        return value


class EvaluationForm(forms.Form):
    attitude = forms.ChoiceField(
        label=_("Handling attitude"), choices=Rating.choices, widget=forms.RadioSelect
    )
    result = forms.ChoiceField(
        label=_("Handling result"), choices=Rating.choices, widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("Comments"), required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReturnForm(forms.Form):
    note = forms.CharField(label=_("What should change"), widget=forms.Textarea(attrs={"rows": 2}))


class PaperEvaluationForm(EvaluationForm):
    """The office enters a rating a deputy gave on the paper form (deputies without a login)."""

    deputy = forms.ModelChoiceField(label=_("Deputy"), queryset=Deputy.objects.none())

    field_order = ["deputy", "attitude", "result", "comment"]

    def __init__(self, *args, reply, **kwargs):
        super().__init__(*args, **kwargs)
        rated = reply.evaluations.values("deputy_id")
        self.fields["deputy"].queryset = Deputy.objects.filter(
            pk__in=[d.pk for d in reply.suggestion.deputies()]
        ).exclude(pk__in=rated)
