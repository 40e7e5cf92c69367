"""Reliability pages: the dashboard (with CSV downloads), a brief's trace, autonomy policies."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from briefs.selectors import visible_briefs
from reliability import autonomy, charts, metrics
from reliability.alerts import open_alerts
from reliability.models import BAR_FLOOR, MIN_DECISIONS_FLOOR, AutonomyPolicy
from retrieval.models import IP
from retrieval.selectors import visible_ips
from studio.roles import Role, role_required

# Every figure is about briefs, and catalog admins see no brief (briefs.selectors.visible_briefs).
VIEWER_ROLES = (Role.PRODUCER, Role.CREATIVE_DIRECTOR)
WINDOWS = {
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
    "90d": ("Last 90 days", timedelta(days=90)),
    "all": ("All time", None),
}


def lead_required(view: Callable) -> Callable:
    """Let lead directors and superusers through; other signed-in users get a 403 page."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not autonomy.may_manage_policies(request.user):
            raise PermissionDenied("Autonomy policies are for the lead creative director.")
        return view(request, *args, **kwargs)

    return wrapped


class ReliabilityFilterForm(forms.Form):
    ip = forms.ModelChoiceField(
        queryset=IP.objects.order_by("name"), required=False, empty_label="All IPs", label="IP"
    )
    brief = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="All briefs",
        label="Brief",
    )
    window = forms.ChoiceField(
        choices=[(key, label) for key, (label, _) in WINDOWS.items()],
        required=False,
        initial="30d",
        label="Time window",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scope = visible_briefs(user)
        self.fields["brief"].queryset = self.scope.order_by("-created_at")
        self.fields["ip"].queryset = visible_ips(user).order_by("name")

    def filters(self) -> metrics.Filters:
        """Return the filters the valid form asks for (the last 30 days when it is not valid)."""
        data = self.cleaned_data if self.is_valid() else {}
        window = WINDOWS[data.get("window") or "30d"][1]
        ip, brief = data.get("ip"), data.get("brief")
        return metrics.Filters(
            ip_id=ip.pk if ip else None,
            brief_id=brief.pk if brief else None,
            since=timezone.now() - window if window else None,
            scope=self.scope,
        )


class PolicyForm(forms.ModelForm):
    note = forms.CharField(
        required=False,
        label="Why (kept in the audit trail)",
        widget=forms.TextInput(attrs={"placeholder": "e.g. agreement looks good on this IP"}),
    )

    class Meta:
        model = AutonomyPolicy
        fields = ["mode", "threshold", "sample_rate", "min_decisions", "bar"]
        labels = {
            "threshold": "Approve when the critic score is at least",
            "sample_rate": "Share still audited by a human",
            "min_decisions": "N (recent decisions measured)",
            "bar": "Bar for the agreement lower bound",
        }
        widgets = {
            "threshold": forms.NumberInput(attrs={"step": "0.01", "min": 0, "max": 1}),
            "sample_rate": forms.NumberInput(attrs={"step": "0.01", "min": 0, "max": 1}),
            "min_decisions": forms.NumberInput(attrs={"min": MIN_DECISIONS_FLOOR}),
            "bar": forms.NumberInput(attrs={"step": "0.01", "min": BAR_FLOOR, "max": 1}),
        }


class NewPolicyForm(forms.ModelForm):
    class Meta:
        model = AutonomyPolicy
        fields = ["step", "ip", "threshold", "sample_rate", "min_decisions", "bar"]
        labels = PolicyForm.Meta.labels | {"ip": "IP (empty: every IP without its own policy)"}
        widgets = PolicyForm.Meta.widgets

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ip"].queryset = visible_ips(user, Role.CREATIVE_DIRECTOR).order_by("name")


def _dashboard_context(request: HttpRequest) -> dict:
    form = ReliabilityFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    if "brief" in form.errors:
        # Someone else's brief (or none at all): say nothing about whether it exists.
        raise Http404("No such brief.")
    data = metrics.dashboard(filters)
    return {
        "form": form,
        "data": data,
        "charts": charts.dashboard_charts(data),
        "may_manage_policies": autonomy.may_manage_policies(request.user),
        "agreement": charts.agreement_table(data),
        "alerts": open_alerts(),
        "query": request.GET.urlencode(),
    }


@require_GET
@role_required(*VIEWER_ROLES)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Show per-step reliability, end-to-end rates and where failures concentrate."""
    template = "reliability/dashboard.html"
    context = _dashboard_context(request)
    return render(request, template + "#dashboard-body" if request.htmx else template, context)


@require_GET
@role_required(*VIEWER_ROLES)
def dashboard_csv(request: HttpRequest, dataset: str) -> HttpResponse:
    """Download one chart's numbers as CSV, for the same filters as the dashboard."""
    context = _dashboard_context(request)
    tables = [*context["charts"], context["agreement"]]
    chosen = {chart.slug: chart for chart in tables}.get(dataset)
    if chosen is None:
        raise Http404("No such dataset.")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="reliability-{dataset}.csv"'
    writer = csv.writer(response)
    writer.writerow(chosen.columns)
    writer.writerows(chosen.rows)
    return response


@require_GET
@role_required(*VIEWER_ROLES)
def trace(request: HttpRequest, pk: int) -> HttpResponse:
    """Show every handoff of one brief on a timeline, with the waits for humans."""
    get_object_or_404(visible_briefs(request.user), pk=pk)
    brief_trace = metrics.brief_trace(pk)
    return render(
        request,
        "reliability/trace.html",
        {"trace": brief_trace, "timeline": charts.trace_timeline(brief_trace)},
    )


@require_http_methods(["GET", "POST"])
@lead_required
def policies(request: HttpRequest) -> HttpResponse:
    """List autonomy policies with their agreement; create a policy (it starts manual)."""
    form = NewPolicyForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            policy = autonomy.policy_create(user=request.user, **form.cleaned_data)
        except autonomy.AutonomyError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"Policy “{policy}” created in manual mode.")
            return redirect("reliability:policy", pk=policy.pk)
    return render(
        request,
        "reliability/policies.html",
        {"overview": autonomy.policies_overview(), "form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@lead_required
def policy(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit one policy's mode and numbers; show its agreement and audit trail."""
    current = get_object_or_404(AutonomyPolicy.objects.select_related("ip"), pk=pk)
    form = PolicyForm(request.POST or None, instance=AutonomyPolicy.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in autonomy.EDITABLE}
        try:
            autonomy.policy_update(
                policy=current, user=request.user, note=form.cleaned_data["note"], **values
            )
        except autonomy.AutonomyError as refused:
            form.add_error("mode", str(refused))
        else:
            messages.success(request, f"Policy “{current}” saved.")
            return redirect("reliability:policy", pk=pk)
    return render(
        request,
        "reliability/policy.html",
        {
            "policy": current,
            "form": form,
            "agreement": autonomy.agreement(current),
            "earned": autonomy.earned_auto(current),
            "trail": autonomy.policy_trail(current),
            "predictions": current.predictions.select_related("take__shot__brief", "human")[:20],
        },
        status=400 if form.errors else 200,
    )
