"""Brief pages: list, form, live brief page, the plan gate, and the takes' media."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from briefs import selectors, services
from briefs.forms import BriefForm, PlanForm
from briefs.models import Brief
from briefs.streaming import ranged_file_response
from studio.roles import Role, role_required


@role_required(Role.PRODUCER, Role.CREATIVE_DIRECTOR)
def brief_list(request: HttpRequest) -> HttpResponse:
    """List the briefs the user may see, with their progress."""
    briefs = selectors.brief_list(user=request.user)[:200]
    return render(request, "briefs/brief_list.html", {"briefs": briefs})


@role_required(Role.PRODUCER)
def brief_create(request: HttpRequest) -> HttpResponse:
    """Show the brief form and submit a valid brief."""
    form = BriefForm(request.POST or None, producer=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            brief = services.brief_submit(
                producer=request.user,
                ip=data["ip"],
                title=data["title"],
                beat=data["beat"],
                tone=data["tone"],
                shot_count=data["shot_count"],
                aspect_ratio=data["aspect_ratio"],
                seconds_per_shot=data["seconds_per_shot"],
                territory=data["territory"],
                release_date=data["release_date"],
                negative_prompt=data["negative_prompt"],
                budget_cap=data["budget_cap"],
                requires_plan_approval=data["requires_plan_approval"],
                pinned_reference_ids=[asset.pk for asset in data["pinned_references"]],
                checklist=data["checklist"],
                required_approvals=data["required_approvals"],
                sound=data["sound"],
            )
        except services.BriefError as exc:
            form.add_error(exc.field, str(exc))
        else:
            messages.success(request, f"Brief “{brief.title}” submitted; the pipeline has it.")
            return redirect(brief)
    return render(request, "briefs/brief_form.html", {"form": form})


def _brief_context(request: HttpRequest, brief: Brief) -> dict:
    shots = selectors.brief_shots(brief)
    plan_form = None
    if brief.status == Brief.Status.AWAITING_PLAN_APPROVAL and services.can_edit_plan(
        request.user, brief
    ):
        plan_form = PlanForm(shots=shots, wants_sound=brief.wants_sound)
    return {
        "brief": brief,
        "shots": shots,
        "progress": selectors.brief_progress(brief, shots),
        "handoffs": selectors.recent_handoffs(brief),
        "can_manage": services.can_manage(request.user, brief),
        "can_retry": services.can_retry(brief, shots),
        "plan_form": plan_form,
    }


@role_required(Role.PRODUCER, Role.CREATIVE_DIRECTOR)
def brief_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a brief with live progress, its shots and takes, and its handoff log."""
    brief = get_object_or_404(selectors.visible_briefs(request.user), pk=pk)
    return render(request, "briefs/brief_detail.html", _brief_context(request, brief))


@require_GET
@role_required(Role.PRODUCER, Role.CREATIVE_DIRECTOR)
def brief_live(request: HttpRequest, pk: int) -> HttpResponse:
    """Answer the page's poll: 204 when nothing changed, the live panel, then stop when idle."""
    brief = get_object_or_404(selectors.visible_briefs(request.user), pk=pk)
    if request.htmx and request.GET.get("v") == selectors.progress_version(pk):
        return HttpResponse(status=204)
    context = _brief_context(request, brief)
    template = "briefs/brief_detail.html#live" if request.htmx else "briefs/brief_detail.html"
    response = render(request, template, context)
    if request.htmx and not context["progress"].is_live:
        # 286 tells htmx to stop polling; the swap still shows the final state.
        return HttpResponseStopPolling(response.content)
    return response


def _manage(request: HttpRequest, pk: int, action) -> HttpResponse:
    brief = get_object_or_404(selectors.visible_briefs(request.user), pk=pk)
    try:
        action(brief=brief, user=request.user)
    except services.BriefError as exc:
        messages.error(request, str(exc))
        if request.htmx:
            return HttpResponse(str(exc), status=409)
    return redirect(brief)


@require_POST
@role_required(Role.PRODUCER)
def brief_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a brief."""
    return _manage(request, pk, services.brief_cancel)


@require_POST
@role_required(Role.PRODUCER)
def brief_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Run a brief's failed parts again."""
    return _manage(request, pk, services.brief_retry_failed)


@require_POST
@role_required(Role.PRODUCER, Role.CREATIVE_DIRECTOR)
def plan_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Save edited shot prompts, and approve the plan when that button was pressed."""
    brief = get_object_or_404(selectors.visible_briefs(request.user), pk=pk)
    form = PlanForm(
        request.POST, shots=list(brief.shots.order_by("order")), wants_sound=brief.wants_sound
    )
    approve = "approve" in request.POST
    if form.is_valid():
        try:
            services.plan_update_and_approve(
                brief=brief,
                user=request.user,
                prompts=form.prompts(),
                audio_lines=form.audio_lines(),
                approve=approve,
            )
        except services.BriefError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Plan approved; generating." if approve else "Plan saved.")
        return redirect(brief)
    context = _brief_context(request, brief) | {"plan_form": form}
    return render(request, "briefs/brief_detail.html", context, status=400)


def _media(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    take = selectors.visible_take(user=request.user, take_id=pk)
    if take is None:
        raise Http404("No such take.")
    stored = getattr(take, field)
    if not stored:
        raise Http404("This take has no media yet.")
    return ranged_file_response(request, stored.storage, stored.name)


@require_GET
@login_required
def take_media(request: HttpRequest, pk: int) -> HttpResponse:
    """Stream a take's clip, with byte ranges so players can seek."""
    return _media(request, pk, "media")


@require_GET
@login_required
def take_poster(request: HttpRequest, pk: int) -> HttpResponse:
    """Serve a take's poster frame."""
    return _media(request, pk, "poster")


@require_GET
@login_required
def take_keyframe(request: HttpRequest, pk: int, index: int) -> HttpResponse:
    """Serve one of a take's continuity keyframes (sampled once, kept as a small JPEG)."""
    found = selectors.take_keyframe(user=request.user, take_id=pk, index=index)
    if found is None:
        raise Http404("No such keyframe.")
    storage, name = found
    return ranged_file_response(request, storage, name)
