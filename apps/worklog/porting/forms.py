from django import forms

from apps.worklog.porting.importers import FORMATS


class ImportForm(forms.Form):
    format = forms.ChoiceField(
        label="What kind of file is it?",
        choices=list(FORMATS.items()),
        initial="csv",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    file = forms.FileField(
        label="File",
        widget=forms.ClearableFileInput(
            attrs={"class": "form-control", "accept": ".csv,.json,.zip,text/csv"}
        ),
        error_messages={"required": "Choose a file to import.", "empty": "The file is empty."},
        help_text=(
            "CSV and jrnl files up to 20 MB, an export ZIP up to 1 GB. Large files and every ZIP are "
            "checked in the background; you see the preview when the check is done."
        ),
    )
