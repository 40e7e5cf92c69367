"""The review board: thin views that parse a form, call one service and render."""

from __future__ import annotations

import difflib
import json
from collections import Counter
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from briefs import services as brief_services
from briefs.models import Brief, Shot, Take
from briefs.selectors import continuity_sheet, visible_briefs
from briefs.streaming import ranged_file_response
from retrieval.models import Asset
from retrieval.selectors import rights_block_reason, rights_cleared_assets, visible_ips
from review import selectors, services
from review.export import build_export
from review.forms import (
    BulkDecisionForm,
    CompareForm,
    DailiesFilterForm,
    DecisionForm,
    NoteForm,
    PlaylistForm,
    QueueFilterForm,
    RepromptForm,
)
from review.models import CutRender, Decision
from studio.roles import Role, has_role, role_required
from teams.selectors import has_ip_role

BOARD_ROLES = (Role.CREATIVE_DIRECTOR, Role.PRODUCER)
# Take statuses a director may decide on (again, knowingly, once decided).
DECIDABLE = (Take.Status.READY, Take.Status.ROUTED, Take.Status.APPROVED, Take.Status.REJECTED)
# Shown in the help overlay and beside the controls; review.js binds the same keys.
SHORTCUTS = [
    ("A", "Approve the focused take"),
    ("R", "Reject (choose a reason)"),
    ("N", "Note at the current time"),
    ("J / K", "Next / previous shot"),
    ("Space", "Play / pause"),
    ("M", "Mute / unmute the take"),
    (", / .", "Step one frame back / forward"),
    ("C", "Compare with the previous take"),
    ("X", "Select for bulk decisions"),
    ("?", "Show this help"),
]
# Shown beside the sequence player; sequence.js binds the same keys.
SEQUENCE_SHORTCUTS = [
    ("Space", "Play / pause"),
    ("N / P", "Next / previous shot"),
    (", / .", "Step one frame back / forward"),
    ("M", "Mute / unmute"),
]


def _visible_brief(request: HttpRequest, brief_id: int) -> Brief:
    """Return the brief if the user may see it (producers see their own), else 404."""
    return get_object_or_404(visible_briefs(request.user).select_related("ip"), pk=brief_id)


def _visible_take(request: HttpRequest, take_id: int) -> Take:
    """Return the take (with shot and brief) if the user may see its brief, else 404."""
    visible = Take.objects.filter(shot__brief__in=visible_briefs(request.user).values("pk"))
    return get_object_or_404(visible.select_related("shot__brief__ip"), pk=take_id)


def _card_context(request: HttpRequest, shot: Shot, **extra) -> dict:
    brief = shot.brief
    return {
        "brief": brief,
        "shot": shot,
        "can_decide": has_ip_role(request.user, brief.ip_id, Role.CREATIVE_DIRECTOR),
        "can_promote": services.may_promote(request.user, brief.ip_id),
        "reasons": Decision.Reason.choices,
        "decidable": DECIDABLE,
        **extra,
    }


def _render_card(request: HttpRequest, shot_id: int, *, status: int = 200, **extra) -> HttpResponse:
    shot = selectors.board_shot(shot_id=shot_id)
    return render(
        request, "review/board.html#shot-card", _card_context(request, shot, **extra), status=status
    )


def _board_context(request: HttpRequest, brief: Brief, **extra) -> dict:
    """Context for the whole board; cards are compact (lazy) unless `shots` come in full."""
    if "shots" not in extra:
        extra = {"shots": list(selectors.board_shots(brief=brief)), "lazy": True, **extra}
    return {
        "brief": brief,
        "version": selectors.board_version(brief_id=brief.pk),
        "poll_seconds": settings.REVIEW_POLL_SECONDS,
        "can_decide": has_ip_role(request.user, brief.ip_id, Role.CREATIVE_DIRECTOR),
        "can_promote": services.may_promote(request.user, brief.ip_id),
        "reasons": Decision.Reason.choices,
        "decidable": DECIDABLE,
        "shortcuts": SHORTCUTS,
        **extra,
    }


def _sequence_context(request: HttpRequest, brief: Brief) -> dict:
    clips = selectors.sequence_clips(selectors.sequence_shots(brief=brief))
    return {
        "brief": brief,
        "cut": selectors.current_cut(brief=brief),
        **_player_context(request, clips, ip_id=brief.ip_id),
    }


def _player_context(
    request: HttpRequest, clips: list[selectors.SequenceClip], *, ip_id: int | None = None
) -> dict:
    # A dailies playlist spans IPs: its decisions are checked per take when they are made.
    may_decide = (
        has_ip_role(request.user, ip_id, Role.CREATIVE_DIRECTOR)
        if ip_id is not None
        else has_role(request.user, Role.CREATIVE_DIRECTOR)
    )
    return {
        "clips": clips,
        "total_s": sum(clip.duration_s for clip in clips),
        "can_decide": may_decide,
        "reasons": Decision.Reason.choices,
        "decidable": DECIDABLE,
        "shortcuts": SEQUENCE_SHORTCUTS,
    }


def _board_url(shot: Shot) -> str:
    return reverse("review:board", args=[shot.brief_id]) + f"#shot-{shot.pk}"


@role_required(Role.CREATIVE_DIRECTOR)
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """Show what needs this director: routed takes first with their reasons, then ready ones."""
    form = QueueFilterForm(request.GET or None)
    filters = selectors.QueueFilters()
    if form.is_valid():
        filters = selectors.QueueFilters(**{k: v or "" for k, v in form.cleaned_data.items()})
    takes = selectors.review_queue(user=request.user, filters=filters)[:200]
    context = {
        "form": form,
        "takes": takes,
        "ips": visible_ips(request.user, Role.CREATIVE_DIRECTOR).order_by("name"),
        "briefs": selectors.queue_briefs(user=request.user),
        "check_names": selectors.queue_check_names(user=request.user),
        "filters": filters,
    }
    template = "review/queue.html#queue-list" if request.htmx else "review/queue.html"
    return render(request, template, context)


@role_required(*BOARD_ROLES)
@require_GET
def board(request: HttpRequest, brief_id: int) -> HttpResponse:
    """Show every shot of a brief as a review card."""
    brief = _visible_brief(request, brief_id)
    return render(request, "review/board.html", _board_context(request, brief))


@role_required(*BOARD_ROLES)
@require_GET
@vary_on_headers("HX-Request")
def sequence(request: HttpRequest, brief_id: int) -> HttpResponse:
    """Play the current take of every shot back to back, with statuses and markers."""
    brief = _visible_brief(request, brief_id)
    template = "review/sequence.html#sequence-data" if request.htmx else "review/sequence.html"
    return render(request, template, _sequence_context(request, brief))


@role_required(*BOARD_ROLES)
@require_GET
@vary_on_headers("HX-Request")
def continuity(request: HttpRequest, brief_id: int) -> HttpResponse:
    """Show each character's references beside every shot's keyframes, and each pair's drift."""
    brief = _visible_brief(request, brief_id)
    template = "review/continuity.html" + ("#continuity-body" if request.htmx else "")
    return render(request, template, {"sheet": continuity_sheet(brief), "brief": brief})


@role_required(*BOARD_ROLES)
@require_POST
def continuity_measure(request: HttpRequest, brief_id: int) -> HttpResponse:
    """Queue the brief's continuity check now; the sheet fills in as a worker measures."""
    brief = _visible_brief(request, brief_id)
    try:
        brief_services.continuity_measure(brief=brief, user=request.user)
    except brief_services.BriefError as error:
        raise PermissionDenied(str(error)) from error
    messages.info(request, "Measuring the current takes; refresh in a moment.")
    return redirect("review:continuity", brief_id=brief.pk)


@role_required(Role.CREATIVE_DIRECTOR)
def dailies(request: HttpRequest) -> HttpResponse:
    """List dailies playlists and gather waiting shots (from any briefs) into a new one."""
    filters = DailiesFilterForm(request.GET or None)
    since = timezone.now() - timedelta(days=1)
    if filters.is_valid() and filters.cleaned_data["since"]:
        since = datetime.combine(filters.cleaned_data["since"], time.min, tzinfo=UTC)
    candidates = list(selectors.dailies_candidates(user=request.user, since=since)[:300])
    form = PlaylistForm(request.POST or None, shot_ids=[take.shot_id for take in candidates])
    if request.method == "POST" and form.is_valid():
        try:
            playlist = services.playlist_create(
                user=request.user,
                name=form.cleaned_data["name"],
                shot_ids=[int(pk) for pk in form.cleaned_data["shots"]],
            )
        except services.ReviewError as error:
            form.add_error(None, str(error))
        else:
            return redirect("review:playlist", playlist_id=playlist.pk)
    context = {
        "form": form,
        "filters": filters,
        "since": since,
        "candidates": candidates,
        "playlists": selectors.visible_playlists(user=request.user)[:50],
    }
    return render(request, "review/dailies.html", context, status=400 if form.errors else 200)


@role_required(Role.CREATIVE_DIRECTOR)
@require_GET
@vary_on_headers("HX-Request")
def playlist(request: HttpRequest, playlist_id: int) -> HttpResponse:
    """Review a dailies playlist as one sequence; the session's decisions arrive by polling."""
    chosen = get_object_or_404(selectors.visible_playlists(user=request.user), pk=playlist_id)
    clips = selectors.sequence_clips(selectors.playlist_shots(playlist=chosen))
    context = {
        "playlist": chosen,
        "session": list(selectors.playlist_decisions(playlist=chosen)),
        "poll_seconds": settings.REVIEW_POLL_SECONDS,
        **_player_context(request, clips),
    }
    template = "review/sequence.html#sequence-data" if request.htmx else "review/sequence.html"
    return render(request, template, context)


def _cut_panel(request: HttpRequest, brief: Brief, *, status: int = 200, **extra) -> HttpResponse:
    context = {"brief": brief, "cut": selectors.current_cut(brief=brief), **extra}
    return render(request, "review/sequence.html#cut-panel", context, status=status)


@role_required(*BOARD_ROLES)
@require_POST
def cut_request(request: HttpRequest, brief_id: int) -> HttpResponse:
    """Ask for the approved cut as one MP4; answer with its panel, which polls until it is made."""
    brief = _visible_brief(request, brief_id)
    try:
        services.request_cut(brief=brief, user=request.user)
    except services.ReviewError as error:
        if request.htmx:
            return _cut_panel(request, brief, cut_error=str(error), status=422)
        messages.error(request, str(error))
    if request.htmx:
        return _cut_panel(request, brief)
    return redirect(reverse("review:sequence", args=[brief.pk]) + "#approved-cut")


@role_required(*BOARD_ROLES)
@require_GET
def cut_status(request: HttpRequest, brief_id: int) -> HttpResponse:
    """Answer the approved cut panel's poll: progress, then the file."""
    return _cut_panel(request, _visible_brief(request, brief_id))


@role_required(*BOARD_ROLES)
@require_GET
def cut_file(request: HttpRequest, cut_id: int) -> HttpResponse:
    """Stream a rendered approved cut, with byte ranges so players can seek."""
    visible = CutRender.objects.filter(
        brief__in=visible_briefs(request.user).values("pk"), status=CutRender.Status.READY
    )
    cut = get_object_or_404(visible, pk=cut_id)
    return ranged_file_response(request, cut.file.storage, cut.file.name)


@role_required(*BOARD_ROLES)
@require_GET
def board_changes(request: HttpRequest, brief_id: int) -> HttpResponse:
    """Answer a board poll: 204 when nothing changed, else the changed cards (out of band)."""
    brief = _visible_brief(request, brief_id)
    seen = request.GET.get("since", "")
    version = selectors.board_version(brief_id=brief.pk)
    since = selectors.version_time(seen)
    if version == seen or since is None:
        return HttpResponse(status=204)
    changed = list(selectors.shots_changed_since(brief=brief, since=since))
    context = _board_context(request, brief, shots=changed, version=version)
    return render(request, "review/board.html#board-changes", context)


@role_required(*BOARD_ROLES)
@require_GET
def shot_card(request: HttpRequest, shot_id: int) -> HttpResponse:
    """Render one shot's card, optionally showing an earlier take of the shot."""
    shot = get_object_or_404(
        Shot.objects.filter(brief__in=visible_briefs(request.user).values("pk")), pk=shot_id
    )
    shown_take_id = request.GET.get("take", "")
    shown_take_id = int(shown_take_id) if shown_take_id.isdigit() else None
    if request.htmx:
        return _render_card(request, shot.pk, shown_take_id=shown_take_id)
    full = selectors.board_shot(shot_id=shot.pk)
    context = _board_context(request, full.brief, shots=[full], shown_take_id=shown_take_id)
    return render(request, "review/board.html", context)


def _decision_conflict_response(
    request: HttpRequest, take: Take, conflict: services.DecisionConflict
) -> HttpResponse:
    if request.htmx:
        return _render_card(
            request, take.shot_id, status=409, conflict=conflict, shown_take_id=take.pk
        )
    shot = selectors.board_shot(shot_id=take.shot_id)
    context = _board_context(request, shot.brief, shots=[shot], conflict=conflict)
    return render(request, "review/board.html", context, status=409)


@role_required(Role.CREATIVE_DIRECTOR)
@require_POST
def decide(request: HttpRequest, take_id: int) -> HttpResponse:
    """Approve or reject a take version; 409 with the other decision when someone was first."""
    take = _visible_take(request, take_id)
    form = DecisionForm(request.POST, criteria=take.shot.brief.checklist or [])
    if not form.is_valid():
        error = " ".join(e for errors in form.errors.values() for e in errors)
        return _decision_error(request, take, error)
    try:
        decision = services.decide(
            take=take,
            user=request.user,
            verdict=form.cleaned_data["verdict"],
            expected_version=form.cleaned_data["version"],
            reason_code=form.cleaned_data["reason"],
            reason_text=form.cleaned_data["reason_text"],
            checklist=form.ticks(),
            playlist=form.cleaned_data["playlist"],
        )
    except services.DecisionConflict as conflict:
        return _decision_conflict_response(request, take, conflict)
    except services.ReviewError as error:
        return _decision_error(request, take, str(error))
    summary = _decision_summary(take, decision)
    if request.htmx:
        response = _render_card(request, take.shot_id, flash=summary)
        return trigger_client_event(response, "review:decided", {"shot": take.shot_id})
    messages.success(request, summary)
    return redirect(_board_url(take.shot))


def _decision_summary(take: Take, decision: Decision) -> str:
    what = f"Take {take.number} of shot {take.shot.order}"
    if decision.effect == Decision.Effect.SIGNED:
        return f"You signed off {what}; other directors' approvals are awaited."
    if decision.effect == Decision.Effect.DISPUTED:
        return f"Directors disagree on {what}; it goes to a lead director with both verdicts."
    return f"{what} {decision.get_verdict_display().lower()}."


def _decision_error(request: HttpRequest, take: Take, error: str) -> HttpResponse:
    if request.htmx:
        return _render_card(request, take.shot_id, status=422, error=error, shown_take_id=take.pk)
    messages.error(request, error)
    return redirect(_board_url(take.shot))


@role_required(Role.CREATIVE_DIRECTOR)
@require_POST
def bulk_decide(request: HttpRequest, brief_id: int) -> HttpResponse:
    """Apply one verdict and one reason to the selected takes of a brief."""
    brief = _visible_brief(request, brief_id)
    form = BulkDecisionForm(request.POST)
    board_url = reverse("review:board", args=[brief.pk])
    if not form.is_valid():
        error = " ".join(e for errors in form.errors.values() for e in errors)
        messages.error(request, error)
        return HttpResponseClientRedirect(board_url) if request.htmx else redirect(board_url)
    versions = dict(form.cleaned_data["selected"])
    takes = Take.objects.filter(pk__in=versions, shot__brief=brief).select_related("shot__brief")
    outcome = services.bulk_decide(
        takes_with_versions=[(take, versions[take.pk]) for take in takes],
        user=request.user,
        verdict=form.cleaned_data["verdict"],
        reason_code=form.cleaned_data["reason"],
        reason_text=form.cleaned_data["reason_text"],
    )
    verb = "approved" if form.cleaned_data["verdict"] == Decision.Verdict.APPROVED else "rejected"
    effects = Counter("final" if d.is_final else d.effect for d in outcome.applied)
    if effects["final"]:
        messages.success(request, f"{effects['final']} take(s) {verb}.")
    if effects[Decision.Effect.SIGNED]:
        signed = effects[Decision.Effect.SIGNED]
        messages.success(request, f"{signed} take(s) signed; other directors' approvals awaited.")
    if effects[Decision.Effect.DISPUTED]:
        disputed = effects[Decision.Effect.DISPUTED]
        messages.warning(request, f"{disputed} take(s) sent to a lead: directors disagree.")
    for conflict in outcome.conflicts:
        messages.warning(request, f"Shot {conflict.take.shot.order}: {conflict.message}")
    return HttpResponseClientRedirect(board_url) if request.htmx else redirect(board_url)


@role_required(*BOARD_ROLES)
@require_POST
def add_note(request: HttpRequest, take_id: int) -> HttpResponse:
    """Pin a note to a timecode (or range, or frame region) of a take."""
    take = _visible_take(request, take_id)
    form = NoteForm(request.POST)
    try:
        if not form.is_valid():
            raise services.ReviewError(" ".join(e for es in form.errors.values() for e in es))
        services.add_note(
            take=take,
            user=request.user,
            body=form.cleaned_data["body"],
            timecode_start=form.cleaned_data["timecode_start"],
            timecode_end=form.cleaned_data["timecode_end"],
            rect=form.cleaned_data["rect"],
            about_sound=form.cleaned_data["about_sound"],
        )
    except services.ReviewError as error:
        if request.htmx:
            return _render_card(
                request, take.shot_id, status=422, note_error=str(error), shown_take_id=take.pk
            )
        messages.error(request, str(error))
        return redirect(_board_url(take.shot))
    if request.htmx:
        return _render_card(request, take.shot_id, shown_take_id=take.pk, flash="Note added.")
    messages.success(request, "Note added.")
    return redirect(_board_url(take.shot))


@role_required(Role.CREATIVE_DIRECTOR)
def reprompt(request: HttpRequest, take_id: int) -> HttpResponse:
    """Edit a take's prompt, negative prompt and references, and generate a new take."""
    take = _visible_take(request, take_id)
    brief = take.shot.brief
    # Only cleared references can be chosen; earlier ones no longer cleared are shown, disabled.
    choices = list(
        rights_cleared_assets(ip=brief.ip, territory=brief.territory, on_date=brief.release_date)
        .exclude(kind=Asset.Kind.CLIP)
        .order_by("title")
    )
    blocked = [
        (
            asset,
            rights_block_reason(
                asset, territory=brief.territory, on_date=brief.release_date, use="reference"
            ),
        )
        for asset in take.references.select_related("rights").exclude(
            pk__in=[asset.pk for asset in choices]
        )
    ]
    notes = list(take.notes.select_related("user").order_by("timecode_start", "pk"))
    proposal = None
    if request.method == "POST":
        form = RepromptForm(request.POST, reference_choices=choices, notes=notes)
        if form.is_valid():
            try:
                new_take = services.reprompt(
                    take=take,
                    user=request.user,
                    prompt=form.cleaned_data["prompt"],
                    negative_prompt=form.cleaned_data["negative_prompt"],
                    reference_ids=[int(pk) for pk in form.cleaned_data["references"]],
                    answered_note_ids=[int(pk) for pk in form.cleaned_data["answers"]],
                    # A client that sends no audio field keeps the shot's line.
                    audio=form.cleaned_data["audio"] if "audio" in request.POST else None,
                )
            except services.ReviewError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request, f"Take {new_take.number} of shot {take.shot.order} is generating."
                )
                url = _board_url(take.shot)
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    else:
        proposal = services.propose_reprompt(take=take)
        form = RepromptForm(
            initial={
                "prompt": proposal.prompt,
                "negative_prompt": proposal.negative_prompt,
                "audio": proposal.audio,
                "references": [str(asset.pk) for asset in take.references.all()],
                "answers": [str(pk) for pk in proposal.answered_note_ids],
            },
            reference_choices=choices,
            notes=notes,
        )
    # A refused post shows the proposal again beside what the director sent.
    proposal = proposal or services.propose_reprompt(take=take)
    context = {
        "take": take,
        "shot": take.shot,
        "brief": brief,
        "form": form,
        "assets": choices,
        "blocked": blocked,
        "notes": notes,
        "proposal": proposal,
        "prompt_diff": _word_diff(take.prompt, proposal.prompt),
        "negative_diff": _word_diff(take.negative_prompt, proposal.negative_prompt),
        "audio_diff": _word_diff(take.audio, proposal.audio),
    }
    return render(request, "review/reprompt.html", context)


@role_required(Role.CREATIVE_DIRECTOR)
@require_POST
def make_current(request: HttpRequest, take_id: int) -> HttpResponse:
    """Make an earlier take the shot's current one again."""
    take = _visible_take(request, take_id)
    try:
        services.make_current(take=take, user=request.user)
    except services.ReviewError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, f"Take {take.number} is current again for shot {take.shot.order}."
        )
    if request.htmx:
        return _render_card(request, take.shot_id)
    return redirect(_board_url(take.shot))


@role_required(*BOARD_ROLES)
@require_POST
def upload_take(request: HttpRequest, shot_id: int) -> HttpResponse:
    """Add a clip made elsewhere as the shot's next take; it is checked like any other."""
    visible = Shot.objects.filter(brief__in=visible_briefs(request.user).values("pk"))
    shot = get_object_or_404(visible.select_related("brief"), pk=shot_id)
    upload = request.FILES.get("clip")
    if upload is None:
        messages.error(request, "Choose a video file to upload.")
    else:
        try:
            take = services.upload_take(shot=shot, user=request.user, upload=upload)
        except services.ReviewError as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                f"Uploaded “{upload.name}” as take {take.number} of shot {shot.order}; "
                "it is being checked.",
            )
    return redirect(_board_url(shot))


def _word_diff(old: str, new: str) -> list[tuple[str, str]]:
    return [(w[0], w[2:]) for w in difflib.ndiff(old.split(), new.split()) if w[0] in " +-"]


def _config_lines(take: Take) -> list[str]:
    shown = {
        "prompt": take.prompt,
        "negative_prompt": take.negative_prompt,
        "model": take.model,
        "seed": take.seed,
        "references": [ref.title for ref in take.reference_list],
        "config": take.config,
    }
    return json.dumps(shown, indent=2, sort_keys=True, default=str).splitlines()


@role_required(*BOARD_ROLES)
@require_GET
def compare(request: HttpRequest) -> HttpResponse:
    """Show two takes side by side with synced playback and a diff of what made them."""
    form = CompareForm(request.GET)
    if not form.is_valid():
        return HttpResponse("Choose two takes to compare.", status=400)
    pair = selectors.compare_takes(take_ids=(form.cleaned_data["a"], form.cleaned_data["b"]))
    visible = set(visible_briefs(request.user).values_list("pk", flat=True))
    if len(pair) != 2 or not all(take.shot.brief_id in visible for take in pair):
        return HttpResponse("One of those takes does not exist.", status=404)
    # Earlier take on the left, so the diff always reads from old to new.
    left, right = pair = sorted(pair, key=lambda take: (take.shot.order, take.number))
    diff = difflib.unified_diff(
        _config_lines(left),
        _config_lines(right),
        fromfile=f"take {left.number}",
        tofile=f"take {right.number}",
        lineterm="",
        n=2,
    )
    prompt_diff = list(difflib.ndiff(left.prompt.split(), right.prompt.split()))
    context = {
        "left": left,
        "right": right,
        "takes": pair,
        "brief": left.shot.brief,
        "diff": list(diff)[2:],
        "prompt_diff": [(w[0], w[2:]) for w in prompt_diff if w[0] in " +-"],
    }
    return render(request, "review/compare.html", context)


@role_required(*BOARD_ROLES)
@require_GET
def export(request: HttpRequest, brief_id: int) -> HttpResponse:
    """Download the brief's approved takes as a zip (media, manifest, CSV, OTIO timeline)."""
    brief = _visible_brief(request, brief_id)
    try:
        archive = build_export(brief=brief, user=request.user)
    except services.ReviewError as error:
        messages.error(request, str(error))
        return redirect("review:board", brief_id=brief.pk)
    # FileResponse streams the temporary file and closes (so removes) it when done.
    return FileResponse(
        archive.file,
        as_attachment=True,
        filename=archive.filename,
        content_type="application/zip",
    )


@role_required(*BOARD_ROLES)
@require_POST
def promote(request: HttpRequest, take_id: int) -> HttpResponse:
    """Add an approved take to the catalog as a clip with its provenance and derived rights."""
    take = _visible_take(request, take_id)
    try:
        result = services.promote_take(take=take, user=request.user)
    except services.ReviewError as error:
        messages.error(request, str(error))
    else:
        asset = result.asset
        verb = "was already in" if result.deduplicated else "is now in"
        messages.success(request, f"“{asset.title}” v{asset.version} {verb} the catalog.")
    url = _board_url(take.shot)
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
