"""Page links of keyset-paged lists: the same address with the neighbour page's cursor, for the `_pager.html` macro.

The cursor itself is opaque here; the engine service that reads it validates it (a bad one is InvalidInput → 400).
"""

from flask import request, url_for

CURSOR = "cursor"


def query_cursor() -> str:
    """The page cursor of the request ("" for the first page)."""
    return request.args.get(CURSOR, "")


def page_links(page) -> dict:
    """{"next": url or "", "prev": url or ""} for a Page, keeping every other query parameter of the request."""
    args = {key: values for key, values in request.args.lists() if key != CURSOR}

    def link(cursor: str) -> str:
        return url_for(request.endpoint, **request.view_args, **args, cursor=cursor) if cursor else ""

    return {"next": link(page.next_cursor), "prev": link(page.prev_cursor)}
