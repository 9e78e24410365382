from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import ApplicationError, NotFound
from apps.core.tenancy import require_tenant
from apps.worklog import selectors, services
from apps.worklog.forms import SkillMergeForm, SkillRenameForm
from apps.worklog.views.common import show_error


def _skill_or_404(request, pk: int):
    try:
        return selectors.skill_get(tenant=require_tenant(request), pk=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc


@require_GET
def skill_list(request):
    """Every skill with how often and how recently it was used; each links to its entries."""
    skills = list(selectors.skill_list(tenant=require_tenant(request)))
    return render(request, "worklog/skills.html", {"skills": skills})


def _skill_edit_page(request, skill, *, rename_form=None, merge_form=None, status=200):
    targets = [
        other
        for other in selectors.skill_list(tenant=require_tenant(request)).order_by("name")
        if other.pk != skill.pk
    ]
    context = {
        "skill": skill,
        "rename_form": rename_form or SkillRenameForm(initial={"name": skill.name}),
        "merge_form": merge_form or SkillMergeForm(targets=targets),
        "has_targets": bool(targets),
    }
    return render(request, "worklog/skill_edit.html", context, status=status)


@require_GET
def skill_edit(request, pk: int):
    return _skill_edit_page(request, _skill_or_404(request, pk))


@require_POST
def skill_rename(request, pk: int):
    skill = _skill_or_404(request, pk)
    form = SkillRenameForm(request.POST)
    if form.is_valid():
        old_name = skill.name
        try:
            services.skill_rename(skill=skill, actor=request.user, name=form.cleaned_data["name"])
        except ApplicationError as exc:
            show_error(form, exc)
            return _skill_edit_page(request, skill, rename_form=form, status=exc.status_code)
        messages.success(request, f"Renamed “{old_name}” to “{skill.name}”.")
        return redirect("worklog_skills")
    return _skill_edit_page(request, skill, rename_form=form, status=400)


@require_POST
def skill_merge(request, pk: int):
    tenant = require_tenant(request)
    skill = _skill_or_404(request, pk)
    targets = [
        other for other in selectors.skill_list(tenant=tenant).order_by("name") if other.pk != skill.pk
    ]
    form = SkillMergeForm(request.POST, targets=targets)
    if form.is_valid():
        target = next(other for other in targets if other.pk == form.cleaned_data["target"])
        try:
            services.skill_merge(source=skill, target=target, actor=request.user)
        except ApplicationError as exc:
            show_error(form, exc)
        else:
            messages.success(request, f"Merged “{skill.name}” into “{target.name}”.")
            return redirect("worklog_skills")
    return _skill_edit_page(request, skill, merge_form=form, status=400)
