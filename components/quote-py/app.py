"""Academemes' "academic quote of the day": a `nebula:pure` handler written in Python.

Built with componentize-py against `wit/0.1.0/pure.wit` (`nebula:pure@0.1.0`) (world `nebula:pure/handler`) and `--stub-wasi`,
so the component imports nothing (see build.sh and docs/authoring.md).

| route | answers |
|---|---|
| `GET /api/quote?date=YYYY-MM-DD` | `{"date","quote","author","attributed","number","of"}` |
| `GET /fragments/quote?date=YYYY-MM-DD` | the same quote as an HTML `<figure>` to embed in a page |
| `GET /api/quotes` | `{"quotes":[{"quote","author","attributed"}, ...]}`: the whole curated list |

The quote is a function of the date alone: the same date always gives the same quote, and any 30
consecutive days give 30 different quotes. Without `date`, the handler asks the host for the
clock (an `outcome::need` of the `now` read) and uses today's date in UTC; the host does not
memoize answers that read the clock, while dated answers are memoized like any pure GET.
"""

import html
import json
from urllib.parse import parse_qsl

import wit_world
from wit_world.imports import types as t
from componentize_py_types import Ok

from quotes import QUOTES

JSON = "application/json"
HTML = "text/html; charset=utf-8"
MS_PER_DAY = 86_400_000
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


class WitWorld(wit_world.WitWorld):
    def handle(self, input: t.Input) -> t.Outcome:
        try:
            return route(input)
        except Exception as e:  # a bug: answer 500 rather than trap, and say what broke
            return respond(500, JSON, {"error": f"quote-py failed: {type(e).__name__}: {e}"})


def route(input: t.Input) -> t.Outcome:
    request = input.request
    if request.method not in ("GET", "HEAD"):
        return respond(405, JSON, {"error": f"{request.method} is not allowed here"})
    if request.route == "/api/quotes":
        quotes = [{"quote": q, "author": a, "attributed": att} for q, a, att in QUOTES]
        return respond(200, JSON, {"quotes": quotes})
    if request.route not in ("/api/quote", "/fragments/quote"):
        return respond(404, JSON, {"error": f"quote-py serves no route {request.route}"})

    query = dict(parse_qsl(request.query, keep_blank_values=True))
    given = query.get("date", "")
    if given:
        day = parse_date(given)
        if day is None:
            return respond(
                400,
                JSON,
                {"error": f"`date` must be a calendar date YYYY-MM-DD, not {given!r}"},
            )
        cache = "public, max-age=86400"
    else:
        now = clock(input)
        if now is None:
            # Time is an effect: ask the host for it, and get called again with the answer.
            return t.Outcome_Need([t.Read("now", t.ReadOp_Now())])
        day = now // MS_PER_DAY
        cache = None

    date = format_date(day)
    number = pick(day)
    quote, author, attributed = QUOTES[number]
    if request.route == "/fragments/quote":
        return respond(200, HTML, fragment(date, quote, author, attributed), cache)
    body = {
        "date": date,
        "quote": quote,
        "author": author,
        "attributed": attributed,
        "number": number + 1,
        "of": len(QUOTES),
    }
    return respond(200, JSON, body, cache)


def pick(day: int) -> int:
    """The quote of day `day` (days since 1970-01-01): a step coprime with the list's length
    walks every quote once in any len(QUOTES) consecutive days, in a shuffled-looking order."""
    n = len(QUOTES)
    step = next(s for s in (7, 11, 13, 17, 19, 23, 29, 31) if gcd(s, n) == 1)
    return (day * step + 3) % n


def gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def clock(input: t.Input):
    """Milliseconds since the epoch from a `now` read result, or None if there is none."""
    for result in input.reads:
        if result.name == "now" and isinstance(result.value, Ok):
            value = result.value.value
            if isinstance(value, t.ReadValue_Number):
                return value.value
    return None


def parse_date(text: str):
    """`YYYY-MM-DD` (years 0001..9999) -> days since 1970-01-01, or None if it is no date."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    y, m, d = text[:4], text[5:7], text[8:]
    if not (y.isdigit() and m.isdigit() and d.isdigit() and y.isascii() and m.isascii() and d.isascii()):
        return None
    y, m, d = int(y), int(m), int(d)
    if y < 1 or not 1 <= m <= 12 or not 1 <= d <= days_in_month(y, m):
        return None
    return days_from_civil(y, m, d)


def days_in_month(y: int, m: int) -> int:
    if m == 2:
        leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
        return 29 if leap else 28
    return 30 if m in (4, 6, 9, 11) else 31


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z: int):
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (m <= 2), m, d


def format_date(day: int) -> str:
    y, m, d = civil_from_days(day)
    return f"{y:04d}-{m:02d}-{d:02d}"


def fragment(date: str, quote: str, author: str, attributed: bool) -> str:
    y, m, d = (int(p) for p in date.split("-"))
    who = f"attributed to {html.escape(author)}" if attributed else html.escape(author)
    return (
        f'<figure class="quote-of-the-day" data-date="{date}">\n'
        f"<blockquote><p>{html.escape(quote)}</p></blockquote>\n"
        f'<figcaption>\u2014 {who}, quote of <time datetime="{date}">'
        f"{d} {MONTHS[m - 1]} {y}</time></figcaption>\n"
        "</figure>\n"
    )


def respond(status: int, content_type: str, body, cache=None) -> t.Outcome:
    if content_type == JSON:
        body = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    headers = [t.Header("content-type", content_type)]
    if cache is not None:
        headers.append(t.Header("cache-control", cache))
    return t.Outcome_Respond((t.Response(status, headers, body.encode("utf-8")), []))
