import io
import time

from briefs import demo
from briefs.models import Brief, Shot, Take
from retrieval import demo as catalog_demo
from studio.demo import seed_demo_users
from teams import demo as teams_demo


def test_demo_briefs_give_the_board_ready_and_routed_takes_and_seed_once(db, settings, tmp_path):
    settings.LOCAL_OPS_DIR = tmp_path
    seed_demo_users()
    catalog_demo.seed(stdout=io.StringIO())
    teams_demo.seed(stdout=io.StringIO())
    started = time.monotonic()

    demo.seed(stdout=io.StringIO())

    assert time.monotonic() - started < 20
    statuses = dict(Brief.objects.values_list("title", "status"))
    assert statuses == {
        "Mira lights the harbour": Brief.Status.IN_REVIEW,
        "Pip at the night market": Brief.Status.IN_REVIEW,
        "Tobin reads the tide tables": Brief.Status.AWAITING_PLAN_APPROVAL,
    }
    ready = Take.objects.filter(shot__brief__title="Mira lights the harbour", status="ready")
    assert ready.count() == 3
    routed = Shot.objects.get(brief__title="Pip at the night market")
    assert routed.status == Shot.Status.NEEDS_HUMAN and "black from" in routed.status_reason

    output = io.StringIO()
    demo.seed(stdout=output)
    assert Brief.objects.count() == 3
    assert "already present" in output.getvalue()
