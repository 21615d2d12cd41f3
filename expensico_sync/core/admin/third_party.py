"""Third-party admins re-registered on Unfold so every page looks the same."""

from allauth.account.admin import EmailAddressAdmin as BaseEmailAddressAdmin
from allauth.account.models import EmailAddress
from allauth.mfa.admin import AuthenticatorAdmin as BaseAuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django_q import admin as q_admin
from django_q import models as q_models
from rest_framework_api_key.models import APIKey
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from .permissions import TranslatedPermissions


class SuperuserOnly:
    """People and task internals are run by operators (superusers), not tenants."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, *args):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


for model in (User, Group, APIKey, EmailAddress, Authenticator,
              q_models.Schedule, q_models.Success, q_models.Failure, q_models.OrmQ):
    if admin.site.is_registered(model):
        admin.site.unregister(model)


@admin.register(User)
class UserAdmin(SuperuserOnly, TranslatedPermissions, BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    list_display = ("username", "email", "is_staff", "is_superuser", "is_active", "last_login")


@admin.register(Group)
class GroupAdmin(SuperuserOnly, TranslatedPermissions, BaseGroupAdmin, ModelAdmin):
    pass


@admin.register(EmailAddress)
class EmailAddressAdmin(SuperuserOnly, BaseEmailAddressAdmin, ModelAdmin):
    pass


@admin.register(Authenticator)
class AuthenticatorAdmin(SuperuserOnly, BaseAuthenticatorAdmin, ModelAdmin):
    pass


@admin.register(q_models.Schedule)
class ScheduleAdmin(SuperuserOnly, q_admin.ScheduleAdmin, ModelAdmin):
    pass


class WrittenByWorkers:
    """Task results and queued messages come from the cluster; django-q's add forms for them
    crash (every field is read-only off the object being added), so nobody adds one by hand."""

    def has_add_permission(self, request, *args):
        return False


@admin.register(q_models.Success)
class SuccessAdmin(WrittenByWorkers, SuperuserOnly, q_admin.TaskAdmin, ModelAdmin):
    pass


@admin.register(q_models.Failure)
class FailureAdmin(WrittenByWorkers, SuperuserOnly, q_admin.FailAdmin, ModelAdmin):
    pass


@admin.register(q_models.OrmQ)
class QueueAdmin(WrittenByWorkers, SuperuserOnly, q_admin.QueueAdmin, ModelAdmin):
    pass
