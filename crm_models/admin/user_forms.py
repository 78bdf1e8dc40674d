"""The user form's role picker and password line.

An administrator gives roles by ticking the four roles, named in the user's
language, instead of Django's two-pane picker of every group; the password
is shown only as set or not, never as its hash's algorithm and salt."""

from typing import Any

from django import forms
from django.contrib.auth.models import Group
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from unfold.widgets import UnfoldAdminCheckboxSelectMultipleWidget

from crm_models.roles import Role, role_label


class RoleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Group) -> str:
        return role_label(obj.name)


def role_field(**kwargs: Any) -> RoleChoiceField:
    kwargs.update(
        queryset=Group.objects.filter(name__in=Role.values).order_by("pk"),
        widget=UnfoldAdminCheckboxSelectMultipleWidget,
        label=_("roles"),
        help_text=_("What the user does in the CRM; most people have one role."),
    )
    return RoleChoiceField(**kwargs)


class PasswordStatusWidget(forms.Widget):
    """Whether the account has a usable password; nothing of the hash."""

    template_name = "crm_models/widgets/password_status.html"

    def get_context(self, name: str, value: Any, attrs: dict | None) -> dict:
        context = super().get_context(name, value, attrs)
        context["has_password"] = bool(value) and not str(value).startswith("!")
        return context


DEFAULT_ACTIONS = {
    "view": _("view"),
    "add": _("add"),
    "change": _("change"),
    "delete": _("delete"),
}


def permissions_by_model(permissions: Any) -> list[tuple[str, str]]:
    """(model, "view, add, ...") per model, in the user's language: Django
    stores permission names in English."""
    by_model: dict[str, list[str]] = {}
    for permission in permissions:
        model = permission.content_type.model_class()
        # gettext: a model without a verbose name (admin-charts' link and cache
        # tables) has one made of its class name, outside any catalogue but ours.
        model_name = (
            capfirst(gettext(str(model._meta.verbose_name_plural)))
            if model
            else permission.content_type.model
        )
        action, _sep, _rest = permission.codename.partition("_")
        text = DEFAULT_ACTIONS.get(action) if _rest == permission.content_type.model else None
        by_model.setdefault(str(model_name), []).append(str(text or gettext(permission.name)))
    return [(model, ", ".join(actions)) for model, actions in sorted(by_model.items())]
