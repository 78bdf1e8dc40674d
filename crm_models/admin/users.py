"""Users and groups, themed with unfold and locked down for Administrators.

Administrators create staff users and give them roles (groups). Only superusers
may grant superuser status, edit a superuser or change a group's permissions;
nobody may change their own roles or permissions. Fields a user may not set are
read-only, so a forged POST of them is ignored by the form.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from crm_models.roles import Role, role_label

from .user_forms import PasswordStatusWidget, permissions_by_model, role_field


class RoleFilter(admin.SimpleListFilter):
    title = _("role")
    parameter_name = "role"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(role.value), str(role.label)) for role in Role]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() in Role.values:
            return queryset.filter(groups__name=self.value())
        return queryset


class CrmUserChangeForm(UserChangeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        password = self.fields.get("password")
        if password is not None:
            password.widget = PasswordStatusWidget()


admin.site.unregister(User)
admin.site.unregister(Group)

PRIVILEGE_FIELDS = ("is_superuser", "user_permissions")
OWN_ACCOUNT_FIELDS = ("groups", "is_staff", "is_active", "is_superuser", "user_permissions")


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = CrmUserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ["username", "full_name", "email", "roles", "is_active", "last_login"]
    list_filter = [RoleFilter, "is_active", "is_staff", "is_superuser"]
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "first_name",
                    "last_name",
                    "email",
                    "usable_password",
                    "password1",
                    "password2",
                    "groups",
                ),
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("full name"))
    def full_name(self, obj: User) -> str:
        return obj.get_full_name()

    @admin.display(description=_("roles"))
    def roles(self, obj: User) -> str:
        return ", ".join(role_label(group.name) for group in obj.groups.all())

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "groups":
            return role_field(required=False)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: User | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or "groups" not in self.get_readonly_fields(request, obj):
            return fieldsets
        # A read-only role list reads as the roles' labels, not the groups' names.
        return [
            (name, {**options, "fields": ["roles" if f == "groups" else f for f in options["fields"]]})
            for name, options in fieldsets
        ]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The form offers the four roles only: a group outside them (made by a
        # superuser) is kept, not silently removed.
        kept = list(form.instance.groups.exclude(name__in=Role.values)) if change else []
        super().save_related(request, form, formsets, change)
        if kept:
            form.instance.groups.add(*kept)

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list:
        readonly = set(super().get_readonly_fields(request, obj))
        readonly.add("roles")
        readonly.add("last_login")
        readonly.add("date_joined")
        if not request.user.is_superuser:
            readonly.update(PRIVILEGE_FIELDS)
        if obj is not None and obj.pk == request.user.pk:
            readonly.update(OWN_ACCOUNT_FIELDS)
        return sorted(readonly)

    def has_change_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None and (
            obj.pk == request.user.pk or (obj.is_superuser and not request.user.is_superuser)
        ):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if not change:
            obj.is_staff = True  # every account made here is a back-office account
        super().save_model(request, obj, form, change)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        target = self.get_object(request, id)
        if target is not None and not self.has_change_permission(request, target):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    list_display = ["role_name"]

    @admin.display(description=_("name"), ordering="name")
    def role_name(self, obj: Group) -> str:
        return role_label(obj.name)

    def get_fields(self, request: HttpRequest, obj: Group | None = None) -> Any:
        if request.user.is_superuser:
            return super().get_fields(request, obj)
        return ["role_name", "permission_list"]

    def get_readonly_fields(self, request: HttpRequest, obj: Group | None = None) -> list:
        if request.user.is_superuser:
            return list(super().get_readonly_fields(request, obj))
        return ["name", "permissions", "role_name", "permission_list"]

    @admin.display(description=_("permissions"))
    def permission_list(self, obj: Group) -> str:
        return format_html_join(
            "", "<p>{}: {}</p>", permissions_by_model(obj.permissions.select_related("content_type"))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return request.user.is_superuser
