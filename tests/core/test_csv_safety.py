import pytest

from apps.core.csv_safety import csv_text


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Top-up", "Top-up"),
        ("", ""),
        (None, ""),
        ("a=b", "a=b"),
    ],
)
def test_it_neutralises_cells_a_spreadsheet_would_run(value, cell):
    assert csv_text(value) == cell
