from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import ApplicationError
from apps.core.responses import is_htmx
from apps.core.tenancy import require_tenant
from apps.worklog import selectors, services
from apps.worklog.forms import EntryForm, EvidenceLinkForm, EvidenceUploadForm, FullEntryForm, NewEntryForm
from apps.worklog.skills import skill_complete, skill_normalise, skill_suggest
from apps.worklog.views.common import (
    UNDO_SESSION_KEY,
    entry_or_404,
    show_error,
    toast_html,
    trigger,
)

SUGGEST_TEXT_LIMIT = 25_000


def _new_entry_initial(request) -> dict:
    defaults = selectors.entry_defaults(tenant=require_tenant(request), author=request.user)
    return {"occurred_on": timezone.localdate(), **defaults}


def _quick_add_form(request, form, *, status: int = 200, extra: str = "") -> HttpResponse:
    context = {"form": form, **selectors.reference_names(tenant=require_tenant(request))}
    html = render_to_string("worklog/partials/_quick_add_form.html", context, request=request)
    return HttpResponse(html + extra, status=status)


def _quick_form(**kwargs) -> EntryForm:
    return EntryForm(auto_id="quick_%s", datalist_prefix="quick", **kwargs)


def _new_quick_form(request) -> EntryForm:
    """A fresh quick-add form; its employer and project (the last used) are shown as removable chips."""
    initial = _new_entry_initial(request)
    form = _quick_form(initial=initial)
    form.prefilled = bool(initial.get("employer") or initial.get("project"))
    return form


@require_http_methods(["GET", "POST"])
def quick_add(request):
    """The quick-add modal's form (loaded when the modal opens) and its submission, over htmx."""
    tenant = require_tenant(request)
    if not is_htmx(request):
        if request.method == "GET":
            return redirect("worklog_entry_create")
        return entry_create(request)
    if request.method == "GET":
        return _quick_add_form(request, _new_quick_form(request))
    form = _quick_form(data=request.POST)
    if form.is_valid():
        try:
            entry = services.entry_create(tenant=tenant, author=request.user, **form.entry_values())
        except ApplicationError as exc:
            show_error(form, exc)
        else:
            url = reverse("worklog_entry_detail", args=[entry.pk])
            toast = toast_html(request, f"Logged “{entry.title}”.", link_url=url, link_label="View")
            response = _quick_add_form(request, _new_quick_form(request), extra=toast)
            return trigger(response, {"worklog:entry-saved": {"id": entry.pk, "url": url}})
    return _quick_add_form(request, form, status=422)


@require_POST
def suggest(request):
    """Skill and tag suggestions while typing: skills the text mentions, and completions of the last name."""
    tenant = require_tenant(request)
    text = " ".join(request.POST.get(name, "") for name in ("title", "body", "impact"))[:SUGGEST_TEXT_LIMIT]
    typed_skills = request.POST.get("skills", "")[:2000]
    typed_tags = request.POST.get("tags", "")[:2000]
    chosen = {skill_normalise(name)[1] for name in services.split_names(typed_skills)}

    def fresh(names):
        seen, result = set(), []
        for name in names:
            key = skill_normalise(name)[1]
            if key not in chosen and key not in seen:
                seen.add(key)
                result.append(name)
        return result

    partial_skill = "" if typed_skills.rstrip().endswith(",") else typed_skills.split(",")[-1].strip()
    partial_tag = "" if typed_tags.rstrip().endswith(",") else typed_tags.split(",")[-1].strip()
    completions = []
    if partial_skill:
        completions = fresh(
            [
                *selectors.skill_names_matching(tenant=tenant, prefix=partial_skill),
                *skill_complete(partial_skill),
            ]
        )
        completions = [
            name for name in completions if skill_normalise(name)[1] != skill_normalise(partial_skill)[1]
        ]
    typed_tag_names = {services.tag_normalise(name) for name in services.split_names(typed_tags)}
    tag_completions = [
        name
        for name in (selectors.tag_names_matching(tenant=tenant, prefix=partial_tag) if partial_tag else [])
        if name not in typed_tag_names
    ]
    context = {
        "from_text": fresh(skill_suggest(text))[:8],
        "skill_completions": completions[:8],
        "tag_completions": tag_completions[:8],
    }
    return render(request, "worklog/partials/_suggestions.html", context)


def _entry_form_page(request, form, *, entry=None, status=200, files_lost=False):
    context = {
        "form": form,
        "entry": entry,
        "files_lost": files_lost,
        **selectors.reference_names(tenant=require_tenant(request)),
    }
    return render(request, "worklog/entry_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
def entry_create(request):
    """The full form: every field, metrics, and evidence files and links saved with the entry."""
    tenant = require_tenant(request)
    if request.method == "GET":
        return _entry_form_page(request, NewEntryForm(initial=_new_entry_initial(request)))
    form = NewEntryForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            entry = services.entry_create(tenant=tenant, author=request.user, **form.entry_values())
        except ApplicationError as exc:
            show_error(form, exc)
        else:
            messages.success(request, f"Logged “{entry.title}”.")
            return redirect("worklog_entry_detail", pk=entry.pk)
    return _entry_form_page(request, form, status=400, files_lost=bool(request.FILES))


@require_http_methods(["GET", "POST"])
def entry_edit(request, pk: int):
    entry = entry_or_404(request, pk)
    if request.method == "GET":
        return _entry_form_page(request, FullEntryForm(initial=FullEntryForm.initial_for(entry)), entry=entry)
    form = FullEntryForm(request.POST)
    if form.is_valid():
        try:
            services.entry_update(entry=entry, actor=request.user, **form.entry_values())
        except ApplicationError as exc:
            show_error(form, exc)
        else:
            messages.success(request, "Changes saved.")
            return redirect("worklog_entry_detail", pk=entry.pk)
    return _entry_form_page(request, form, entry=entry, status=400)


def entry_detail_page(request, entry, *, upload_form=None, link_form=None, status=200):
    context = {
        "entry": entry,
        "upload_form": upload_form or EvidenceUploadForm(),
        "link_form": link_form or EvidenceLinkForm(),
    }
    return render(request, "worklog/entry_detail.html", context, status=status)


@require_GET
def entry_detail(request, pk: int):
    return entry_detail_page(request, entry_or_404(request, pk))


@require_POST
def entry_delete(request, pk: int):
    entry = entry_or_404(request, pk)
    services.entry_delete(entry=entry, actor=request.user)
    request.session[UNDO_SESSION_KEY] = {"id": entry.pk, "title": entry.title}
    return redirect("worklog_timeline")


@require_POST
def entry_restore(request, pk: int):
    entry = entry_or_404(request, pk, include_deleted=True)
    services.entry_restore(entry=entry, actor=request.user)
    messages.success(request, f"“{entry.title}” is back in your log.")
    return redirect("worklog_entry_detail", pk=entry.pk)
