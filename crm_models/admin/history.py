"""A historical version's page and its revert, as an edit of the live record."""

from typing import Any

from django import forms
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models
from django.forms.models import model_to_dict
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from crm_models.admin.keys import valid_pk_or_404


def version_initial(version: models.Model, form_class: Any) -> dict[str, Any]:
    """A historical version's values of the form's fields, as the form's initial
    data. Files stay the live record's: a version's file may no longer be stored."""
    names = [name for name, field in form_class.base_fields.items() if not isinstance(field, forms.FileField)]
    return model_to_dict(version, fields=names)


class LiveRevertMixin:
    """For a SimpleHistoryAdmin whose `get_object_or_404(request, object_id)`
    loads a record in the user's scope (base.ScopedAdminMixin)."""

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict | None = None,
    ) -> HttpResponse:
        """A historical version's page, and its revert: the live record's change
        form, starting from the version's values.

        simple-history builds this form on the historical record: the admin's
        rules (read-only fields, choices) were computed on the old values, and
        every field outside the form was saved back from the version (a
        converted lead reverted to "qualified" lost its conversion date while its
        customer stayed). Here a revert is an edit of the live record, with the
        same form class, read-only fields, validation and save as its change
        form; only the form's initial values come from the version.
        """
        request.current_app = self.admin_site.name  # type: ignore[attr-defined]
        if not self.has_view_or_change_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        history_model = self.model.history.model  # type: ignore[attr-defined]
        valid_pk_or_404(history_model, version_id)
        obj = self.get_object_or_404(request, object_id)  # type: ignore[attr-defined]
        # simple-history lets "view OR change" save a revert; reverting is a change.
        may_change = self.has_change_permission(request, obj)  # type: ignore[attr-defined]
        if request.method == "POST" and not may_change:
            raise PermissionDenied
        if not self.has_view_history_or_change_history_permission(request, obj):  # type: ignore[attr-defined]
            raise PermissionDenied
        opts = self.model._meta  # type: ignore[attr-defined]
        version = history_model.objects.filter(**{opts.pk.attname: obj.pk, "history_id": version_id}).first()
        if version is None:
            raise Http404
        form_class = self.get_form(request, obj, change=True)  # type: ignore[attr-defined]
        if not may_change:
            # Read only, as Django's change view shows it to a view-only user:
            # every field displayed, here with the version's values.
            form = form_class(instance=version.instance)
        elif request.method == "POST":
            form = form_class(request.POST, request.FILES, instance=obj)
            if form.is_valid():
                new_object = self.save_form(request, form, change=True)  # type: ignore[attr-defined]
                self.save_model(request, new_object, form, change=True)  # type: ignore[attr-defined]
                form.save_m2m()
                self.log_change(request, new_object, self.construct_change_message(request, form, []))  # type: ignore[attr-defined]
                return self.response_change(request, new_object)  # type: ignore[attr-defined]
        else:
            form = form_class(instance=obj, initial=version_initial(version.instance, form_class))
        return self.render_history_view(  # type: ignore[attr-defined]
            request,
            self.object_history_form_template,  # type: ignore[attr-defined]
            {
                **self.admin_site.each_context(request),  # type: ignore[attr-defined]
                **self._history_form_context(request, obj, form, object_id, may_change=may_change),
                **(extra_context or {}),
            },
        )

    def _history_form_context(
        self, request: HttpRequest, obj: models.Model, form: Any, object_id: str, *, may_change: bool
    ) -> dict[str, Any]:
        """The context simple-history's version template reads (as its own view gives it)."""
        fieldsets = list(self.get_fieldsets(request, obj))  # type: ignore[attr-defined]
        readonly = self.get_readonly_fields(request, obj) if may_change else flatten_fieldsets(fieldsets)  # type: ignore[attr-defined]
        admin_form = helpers.AdminForm(
            form,
            fieldsets,
            self.get_prepopulated_fields(request, obj) if may_change else {},  # type: ignore[attr-defined]
            readonly,
            model_admin=self,  # type: ignore[arg-type]
        )
        opts = self.model._meta  # type: ignore[attr-defined]
        site, app, model = self.admin_site.name, opts.app_label, opts.model_name  # type: ignore[attr-defined]
        return {
            "title": self.history_form_view_title(request, obj),  # type: ignore[attr-defined]
            "adminform": admin_form,
            "object_id": object_id,
            "original": obj,
            "is_popup": False,
            "media": self.media + admin_form.media,  # type: ignore[attr-defined]
            "errors": helpers.AdminErrorList(form, []),
            "app_label": opts.app_label,
            "original_opts": opts,
            "changelist_url": reverse(f"{site}:{app}_{model}_changelist"),
            "change_url": reverse(f"{site}:{app}_{model}_change", args=(obj.pk,)),
            "history_url": reverse(f"{site}:{app}_{model}_history", args=(obj.pk,)),
            "change_history": False,
            "revert_disabled": self.revert_disabled(request, obj),  # type: ignore[attr-defined]
            "add": False,
            "change": True,
            "has_add_permission": self.has_add_permission(request),  # type: ignore[attr-defined]
            "has_view_permission": self.has_view_history_permission(request, obj),  # type: ignore[attr-defined]
            "has_change_permission": self.has_change_history_permission(request, obj),  # type: ignore[attr-defined]
            "has_delete_permission": self.has_delete_permission(request, obj),  # type: ignore[attr-defined]
            "has_file_field": True,
            "has_absolute_url": False,
            "form_url": "",
            "opts": opts,
            "content_type_id": ContentType.objects.get_for_model(self.model).pk,  # type: ignore[attr-defined]
            "save_as": self.save_as,  # type: ignore[attr-defined]
            "save_on_top": self.save_on_top,  # type: ignore[attr-defined]
            "root_path": getattr(self.admin_site, "root_path", None),  # type: ignore[attr-defined]
        }
