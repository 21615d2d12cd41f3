"""The export record list's columns read once: the system is not repeated when the connection's
name already says it, and long text is clipped with the whole text in its tooltip."""

from expensico_sync.core.formatting import clipped
from exports.admin_records import system_html


def test_the_system_is_named_once():
    html = system_html("Wafeq (sandbox)", "Wafeq")
    assert html.count("Wafeq") == 2 and 'title="Wafeq (sandbox)"' in html  # the text and its tooltip
    assert "·" not in html


def test_a_connection_name_that_does_not_say_the_system_gets_it_underneath():
    html = system_html("Moon books", "Moon ERP")
    assert 'title="Moon books"' in html and ">Moon ERP</span>" in html


def test_clipped_text_keeps_the_whole_text_in_its_tooltip_and_escapes_it():
    html = clipped('Al Baik <Olaya> "Branch 42"', width="10rem")
    assert 'class="cell-clip"' in html and "max-width: 10rem" in html
    assert 'title="Al Baik &lt;Olaya&gt; &quot;Branch 42&quot;"' in html and "<Olaya>" not in html
    assert clipped("") == "—"
