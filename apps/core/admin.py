"""The admin as a door onto services, like a page or an API view: a ServiceAdmin never writes a
model itself. Its change form hands the changed fields to a service, its add form and its deletes
call a service, and its actions call a service for each selected row, so every write from the
admin is permission-checked in the guild, audit-logged and evented exactly as from the app.

A service's refusal (a DomainError) is shown to the staff member where it belongs (on the form,
or as a message), and nothing of the refused write is kept: Django's admin saves in a transaction,
and actions run in one here too, each row in a savepoint of its own."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.db import models, router, transaction
from django.forms.models import construct_instance
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext

from .errors import DomainError
from .forms import add_domain_error


def apply_to_each(modeladmin, request, queryset, act, done: str) -> int:
    """Call `act(obj)` for each selected object. A refusal is reported with its object and undoes
    only that object's write; the others go through. `done` says how many did ("%(n)s ...")."""
    ok = 0
    for item in queryset:
        try:
            with transaction.atomic(using=router.db_for_write(type(item))):
                act(item)
        except DomainError as exc:
            modeladmin.message_user(request, f"{item}: {exc.message}", messages.ERROR)
        else:
            ok += 1
    if ok:
        modeladmin.message_user(request, done % {"n": ok}, messages.SUCCESS)
    return ok


def each_action(name: str, *, description, act, done, related: tuple[str, ...] = (), permissions=("change",)):
    """An action that calls `act(user, obj)` for each selected object (a service call), loading
    `related` with the rows. `done` is a lazily translated "%(n)s ..." message."""

    @admin.action(description=description, permissions=list(permissions))
    def action(modeladmin, request, queryset):
        apply_to_each(modeladmin, request, queryset.select_related(*related),
                      lambda obj: act(request.user, obj), str(done))

    action.__name__ = name
    return action


def form_action(form_class, *, description, done: str, permissions=("change",)):
    """An action that first asks for its parameters (a reason, a duration) on a page of its own,
    then calls `act(modeladmin, request, obj, **cleaned_data)` for each selected object."""

    def wrap(act):
        @admin.action(description=description, permissions=list(permissions))
        def action(modeladmin, request, queryset):
            form = form_class(request.POST if "apply" in request.POST else None)
            if form.is_valid():
                apply_to_each(modeladmin, request, queryset,
                              lambda obj: act(modeladmin, request, obj, **form.cleaned_data), done)
                return None  # back to the list, with the messages
            return TemplateResponse(request, "admin/service_action.html", {
                **modeladmin.admin_site.each_context(request), "title": description, "form": form,
                "objects": list(queryset), "action": act.__name__, "opts": modeladmin.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME, "media": modeladmin.media + form.media,
            })

        action.__name__ = act.__name__
        return action

    return wrap


class ServiceForm(forms.ModelForm):
    """The form parses the fields; the service validates the rest (uniqueness, limits) and says so
    in the same words as on the pages and the API."""

    def _post_clean(self):
        # The parsed fields go on the instance (the admin's change history reads them there); the
        # model's constraints and uniqueness are the service's to check, not Django's messages.
        self.instance = construct_instance(self, self.instance, self._meta.fields, self._meta.exclude)


class ServiceAdmin(admin.ModelAdmin):
    """Subclasses name what the services do with the forms:

    - `service_fields`: what a change form hands to `save_through(request, obj, form, change)`,
      which calls the service and returns the saved object; every other field is read-only, and
      an object with nothing to change opens read-only;
    - `add_fields`: what an add form asks for (also passed to `save_through`); no add without;
    - `delete_through(request, obj)`: the service that deletes; no delete without it.

    Django's model permissions still decide which staff reach which page and action; the guild's
    permissions decide what they may do there (the services ask the engine)."""

    form = ServiceForm
    service_fields: tuple[str, ...] = ()
    add_fields: tuple[str, ...] = ()
    delete_through = None

    def save_through(self, request, obj, form, change):
        raise NotImplementedError

    def editable_fields(self, request, obj) -> tuple[str, ...]:
        return self.service_fields

    # --- what may be done ---

    def has_add_permission(self, request, *args):
        return bool(self.add_fields) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        if obj is not None and not self.editable_fields(request, obj):
            return False  # nothing a service changes here: the page is read-only, actions do the rest
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.delete_through is not None and super().has_delete_permission(request, obj)

    def get_fields(self, request, obj=None):
        return list(self.add_fields) if obj is None else super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        opts = self.model._meta
        every = [f.name for f in opts.fields if not isinstance(f, models.AutoField)]
        every += [f.name for f in opts.many_to_many] + list(self.readonly_fields)
        editable = set(self.editable_fields(request, obj))
        return list(dict.fromkeys(name for name in every if name not in editable))

    def get_deleted_objects(self, objs, request):
        # What goes with the object is the service's business, and the guild's permissions decide:
        # no need for Django's delete permission on every related model.
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    # --- writes, through the services ---

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        refusal = getattr(request, "service_refusal", None)
        if refusal is None:
            return form

        class Refused(form):
            def clean(self):
                cleaned = super().clean()
                add_domain_error(self, refusal)
                return cleaned

        return Refused

    def save_model(self, request, obj, form, change):
        saved = self.save_through(request, obj, form, change)
        obj.pk = saved.pk

    def save_related(self, request, form, formsets, change):
        """Nothing: relations (a member's roles) go through save_through's services too, and the
        inlines are read-only (Django's change history reads what they saved: nothing)."""
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj):
        self.delete_through(request, obj)

    def delete_queryset(self, request, queryset):
        # All or nothing: a refusal undoes the deletes before it (response_action's transaction).
        for obj in queryset:
            try:
                self.delete_through(request, obj)
            except DomainError as exc:
                raise DomainError(gettext("%(object)s: %(message)s") % {"object": obj, "message": exc.message},
                                  code=exc.code) from exc

    # --- refusals, shown ---

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            # The save was rolled back; the form again, with the service's refusal on it.
            request.service_refusal = exc
            return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change",
                                                args=[unquote(object_id)], current_app=self.admin_site.name))

    def response_action(self, request, queryset):
        try:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return super().response_action(request, queryset)
        except DomainError as exc:
            self.message_user(request, gettext("Nothing was changed: %(reason)s") % {"reason": exc.message},
                              messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
