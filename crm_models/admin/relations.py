"""No dead ends: a read-only reference to a row the user may not open (an
operator's view of a lead's owner, a user account) is shown as text, not as
a link that answers 403."""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest


@functools.cache
def related_text(model: type[models.Model], name: str) -> Callable[[Any], str]:
    """A read-only display of the foreign key `name` as its row's text (one
    function per field, so that the admin recognises it as read-only)."""
    field = model._meta.get_field(name)

    @admin.display(description=field.verbose_name)  # type: ignore[union-attr]
    def text(obj: Any) -> str:
        related = getattr(obj, name, None)
        if related is None:
            return "—"
        if hasattr(related, "get_full_name"):
            return related.get_full_name() or related.get_username()
        return str(related)

    text.__name__ = f"{name}_text"
    return text


class PlainTextRelationsMixin:
    def _unopenable(self, request: HttpRequest, name: Any) -> bool:
        if not isinstance(name, str):
            return False
        try:
            field = self.model._meta.get_field(name)  # type: ignore[attr-defined]
        except Exception:
            return False
        if not isinstance(field, models.ForeignKey):
            return False
        site = self.admin_site  # type: ignore[attr-defined]
        related = field.related_model
        if not site.is_registered(related):
            return True
        return not site.get_model_admin(related).has_view_permission(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list:
        readonly = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        if not (self.fieldsets or self.fields):  # type: ignore[attr-defined]
            # Django would list every read-only entry as a field of its own.
            return readonly
        # Every foreign key the user cannot open: a subclass may make one
        # read-only after this runs (LeadAdmin's owner for operators).
        texts = [
            related_text(self.model, field.name)  # type: ignore[attr-defined]
            for field in self.model._meta.concrete_fields  # type: ignore[attr-defined]
            if self._unopenable(request, field.name)
        ]
        return readonly + texts

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> list:
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        readonly = set(self.get_readonly_fields(request, obj))  # type: ignore[attr-defined]

        def swap(name: Any) -> Any:
            if isinstance(name, (list, tuple)):
                return type(name)(swap(item) for item in name)
            if name in readonly and self._unopenable(request, name):
                return related_text(self.model, name)  # type: ignore[attr-defined]
            return name

        return [(title, {**options, "fields": swap(options["fields"])}) for title, options in fieldsets]
