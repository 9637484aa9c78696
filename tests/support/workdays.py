"""Chinese working days from an independent implementation, for the deadline tests.

Prints one line per day from FROM to TO (inclusive): "YYYY-MM-DD W|R|?W|?R", W for a
working day and R for a rest day according to the `chinesecalendar` package (the State
Council notices as its authors entered them), and ?W / ?R for a day of a year that package
has no data for (weekdays / weekends only). Usage: python3 workdays.py FROM TO
"""
import datetime
import sys

import chinese_calendar

start = datetime.date.fromisoformat(sys.argv[1])
end = datetime.date.fromisoformat(sys.argv[2])
out = []
day = start
while day <= end:
    try:
        flag = "W" if chinese_calendar.is_workday(day) else "R"
    except NotImplementedError:
        flag = "?W" if day.weekday() < 5 else "?R"
    out.append(f"{day.isoformat()} {flag}")
    day += datetime.timedelta(days=1)
print("\n".join(out))
