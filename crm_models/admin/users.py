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
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

admin.site.unregister(User)
admin.site.unregister(Group)

PRIVILEGE_FIELDS = ("is_superuser", "user_permissions")
OWN_ACCOUNT_FIELDS = ("groups", "is_staff", "is_active", "is_superuser", "user_permissions")


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ["username", "full_name", "email", "roles", "is_active", "last_login"]
    list_filter = ["groups", "is_active", "is_staff", "is_superuser"]
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
        return ", ".join(group.name for group in obj.groups.all())

    def get_readonly_fields(self, request: HttpRequest, obj: User | None = None) -> list:
        readonly = set(super().get_readonly_fields(request, obj))
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
    list_display = ["name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Group | None = None) -> list:
        if request.user.is_superuser:
            return list(super().get_readonly_fields(request, obj))
        return ["name", "permissions"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        return request.user.is_superuser
