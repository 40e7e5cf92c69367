"""The review demo seeder adds a little activity once, and never twice."""

import io

import pytest

from briefs.models import Take
from review import demo
from review.models import Decision, Note
from tests.factories.review import board_brief
from tests.factories.users import director, producer

pytestmark = pytest.mark.django_db


def test_demo_adds_notes_and_an_approval_once():
    director(username="director")
    brief = board_brief(shots=2, title=demo.DEMO_BRIEF, producer=producer(username="producer"))
    out = io.StringIO()

    demo.seed(stdout=out)
    demo.seed(stdout=out)

    assert Note.objects.filter(take__shot__brief=brief).count() == 2
    assert Note.objects.exclude(rect=None).get().rect["w"] == 0.3
    assert Decision.objects.get().verdict == "approved"
    assert Take.objects.get(shot__brief=brief, shot__order=2).status == "approved"
    assert "already there" in out.getvalue()
