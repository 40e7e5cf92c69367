"""Shared template pieces render what they are given as text, not as markup."""

import pytest
from django import forms
from django.template.loader import render_to_string
from django.urls import reverse

from tests.factories.users import producer


class NoteForm(forms.Form):
    body = forms.CharField(help_text='<img src="x" onerror="alert(1)"> & more')


def test_a_fields_help_text_is_escaped():
    # Given a field whose help text (from a model or form anyone may edit) holds markup
    form = NoteForm()

    # When the shared field include renders it
    html = render_to_string("includes/field.html", {"field": form["body"]})

    # Then the markup shows as text
    assert "<img" not in html
    assert "&lt;img src=&quot;x&quot; onerror=&quot;alert(1)&quot;&gt; &amp; more" in html


@pytest.mark.django_db
def test_djangos_own_html_help_text_still_renders_as_a_list(client):
    client.force_login(producer())

    html = client.get(reverse("password_change")).content.decode()

    assert "<li>Your password can\u2019t be too similar" in html
