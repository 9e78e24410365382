from apps.worklog.markdown import render_markdown


def test_it_renders_markdown_and_strips_anything_active():
    html = render_markdown(
        "# Title\n\n- one\n- two\n\n<img src=x onerror=alert(1)> <iframe src=//evil></iframe>"
        "<a href='javascript:alert(1)' onclick='x()'>x</a> `code`"
    )
    assert "<h1>Title</h1>" in html and "<li>one</li>" in html and "<code>code</code>" in html
    for forbidden in ("<img", "onerror", "<iframe", "javascript:", "onclick"):
        assert forbidden not in html


def test_it_renders_nothing_for_blank_text():
    assert render_markdown("   \n") == ""
