"""backcare.present.html: the one escaper every view, figure and report uses."""

from __future__ import annotations

import pandas as pd

from backcare.present.html import esc, message_html, paragraph
from tests.support.hostile import IMG


def test_esc_escapes_quotes_too_and_shows_missing_values_as_nothing():
    assert esc(IMG) == "&lt;img src=x onerror=alert(1)&gt;"
    assert esc("\"a\" & 'b'") == "&quot;a&quot; &amp; &#x27;b&#x27;"
    assert esc(None) == esc(float("nan")) == esc(pd.NA) == ""
    assert esc(12) == "12"


def test_esc_keeps_line_breaks_and_cuts_to_a_limit():
    assert esc("a\r\nb\nc") == "a<br>b<br>c"
    assert esc("abcdef", limit=4) == "abc…" and esc("abcd", limit=4) == "abcd"
    assert esc("<<<<<", limit=3) == "&lt;&lt;…"  # cut first, then escaped: never half an entity


def test_paragraphs_and_messages_escape_what_they_are_given():
    assert paragraph(IMG) == f'<p class="backcare-text" style="margin:0.3em 0">{esc(IMG)}</p>'
    assert 'class="backcare-caveat"' in paragraph("x", "caveat") and "font-size:0.9em" in paragraph(
        "x", "caveat"
    )
    box = message_html("error", IMG, [IMG], trusted="<b>ok</b>")
    assert (
        IMG not in box and box.count(esc(IMG)) == 2 and "<b>ok</b>" in box and 'role="alert"' in box
    )
