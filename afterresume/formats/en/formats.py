"""The app's one way of writing dates (Django's `date` filter and `formats.date_format` use these).

A date is "Mar 14, 2025"; a moment is "Mar 14, 2025, 14:05" (24-hour, in the person's time zone).
Input formats are left to Django's English defaults.
"""

DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y, H:i"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "M j"
YEAR_MONTH_FORMAT = "F Y"
