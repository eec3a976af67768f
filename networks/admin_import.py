"""The CSV import page that several admin screens share."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse

from networks.forms import CsvUploadForm
from networks.imports import ImportRejected, decode_upload


class CsvImportMixin:
    """Adds an "importer/" page to a ModelAdmin.

    Subclasses set ``import_title``, ``import_help_template`` (what the file
    must look like) and implement ``run_import(request, form, text)``, which
    returns the success message or raises ImportRejected; nothing is written
    when it does.
    """

    import_form_class = CsvUploadForm
    import_title = ""
    import_help_template = ""

    def run_import(self, request, form, text: str) -> str:
        raise NotImplementedError

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_import"
        return [path("importer/", self.admin_site.admin_view(self.import_csv_view), name=name), *super().get_urls()]

    def import_csv_view(self, request):
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        form = self.import_form_class(request.POST or None, request.FILES or None)
        errors = []
        changelist = f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"
        if request.method == "POST" and form.is_valid():
            try:
                message = self.run_import(request, form, decode_upload(form.cleaned_data["file"].read()))
            except ImportRejected as rejected:
                errors = rejected.errors
            else:
                self.message_user(request, message, messages.SUCCESS)
                return redirect(changelist)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": self.import_title,
            "help_template": self.import_help_template,
            "form": form,
            "errors": errors,
            "changelist_url": reverse(changelist),
        }
        return render(request, "admin/csv_import.html", context)
