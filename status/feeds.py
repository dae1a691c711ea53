"""``/status/<slug>/feed.atom``: the status page's incidents as an Atom 1.0 feed (RFC 4287).

Django's syndication framework; one entry per incident shown on the page (open, and resolved in
the last 14 days), newest first; ``updated`` is the incident's newest time, the content its
public status and vendor-visible notes (see ``status.selectors`` for what is never published).
"""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import format_html, format_html_join

from .selectors import PublicIncident, StatusPage
from .views import get_status_page


class StatusFeed(Feed):
    """Atom feed of one organization's public incidents; 404 exactly like the page."""

    feed_type = Atom1Feed

    def __call__(self, request, *args, **kwargs):
        response = super().__call__(request, *args, **kwargs)
        response["Cache-Control"] = "max-age=60"
        return response

    def get_object(self, request, slug: str) -> StatusPage:
        return get_status_page(slug)

    def title(self, page: StatusPage) -> str:
        return f"{page.name} status"

    def subtitle(self, page: StatusPage) -> str:
        return f"Incidents affecting {page.name}: {page.overall_word.lower()}"

    def link(self, page: StatusPage) -> str:
        return f"/status/{page.slug}/"

    def feed_guid(self, page: StatusPage) -> str:
        return f"tag:wedsync-ops,2026:status:{page.slug}"

    def items(self, page: StatusPage) -> list[PublicIncident]:
        self._page = page
        return sorted(page.incidents, key=lambda i: i.updated_at, reverse=True)

    def item_title(self, item: PublicIncident) -> str:
        return f"{item.title} ({item.status})"

    def item_description(self, item: PublicIncident) -> str:
        notes = format_html_join(
            "", "<p>{}: {}</p>", ((f"{u.at:%Y-%m-%d %H:%M} UTC", u.message) for u in reversed(item.updates))
        )
        return format_html("<p>{}{}</p>{}", item.status, f" · {item.impact}" if item.impact else "", notes)

    def item_link(self, item: PublicIncident) -> str:
        return f"/status/{self._page.slug}/#incident-{item.ref}"

    def item_guid(self, item: PublicIncident) -> str:
        return f"tag:wedsync-ops,2026:incident:{item.ref}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: PublicIncident):
        return item.started_at

    def item_updateddate(self, item: PublicIncident):
        return item.updated_at
