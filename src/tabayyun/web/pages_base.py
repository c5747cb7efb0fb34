"""What every workbench page shares: the language, the template context and the response."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse

from tabayyun.web.i18n import COOKIE, LANGUAGES, choose_language, direction, translate_or, translator
from tabayyun.web.templating import environment

# Scraped text is escaped everywhere; this is the second line: no inline or foreign script runs.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                           "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
                           "form-action 'self'")
LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


def page_language(request: Request) -> str:
    return choose_language(request.query_params.get("lang"), request.cookies.get(COOKIE))


def query_url(request: Request, **changes: object) -> str:
    """The current page's URL with some query parameters changed (None or "" removes one)."""
    params = {key: value for key, value in request.query_params.items() if key != "lang"}
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    return quote(request.url.path) + ("?" + urlencode(params) if params else "")


def link(path: str, **params: object) -> str:
    """`path` with the non-empty `params` as its query string."""
    kept = {key: str(value) for key, value in params.items() if value not in (None, "")}
    return path + ("?" + urlencode(kept) if kept else "")


def page_context(request: Request) -> dict:
    lang = page_language(request)
    other = "en" if lang == "ar" else "ar"
    params = {key: value for key, value in request.query_params.items() if key != "lang"}
    return {
        "lang": lang,
        "dir": direction(lang),
        "t": translator(lang),
        "label": lambda key, fallback="": translate_or(key, lang, fallback),
        "switch_url": quote(request.url.path) + "?" + urlencode({**params, "lang": other}),
        "query_url": lambda **changes: query_url(request, **changes),
        "link": link,
        "path": request.url.path,
    }


def render(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    html = environment().get_template(template).render(**page_context(request), **context)
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        response.set_cookie(COOKIE, asked, max_age=LANGUAGE_COOKIE_SECONDS, samesite="lax", httponly=True)
    return response


def timeline_chart(items: list[dict], lang: str, as_of: str | None = None):
    """The inline SVG timeline chart with its words in the page's language."""
    from tabayyun.web.charts import timeline_svg

    t = translator(lang)
    labels = {stance: t(f"stance_{stance}") for stance in ("agree", "disagree", "discuss", "unrelated", "none")}
    labels.update({kind: t(f"event_kind_{kind}") for kind in ("published", "reported", "scheduled")})
    labels.update({"undated": t("undated"), "dated_inside": t("dated_inside"), "as_of": t("as_of"), "empty": t("no_timeline"), "chart": t("timeline")})
    return timeline_svg(items, as_of=as_of, labels=labels)
