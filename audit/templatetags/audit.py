"""``{% object_history obj %}``: the History section of a portal page (templates/audit/_history.html)."""

from django import template

from audit.selectors import object_history, tracked

register = template.Library()


@register.inclusion_tag("audit/_history.html")
def object_history_section(obj, limit: int = 20):
    """Render ``obj``'s audit trail (newest first, at most ``limit`` events) in the request's tenant context."""
    return {"rows": object_history(obj, limit=limit) if obj is not None and tracked(obj) else [], "obj": obj}
