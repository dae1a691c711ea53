"""The operations staff groups (docs/design/architecture.md) and their admin permissions.

Kept in code and applied after every migrate (idempotent), so a new model's
permissions reach the right groups without a hand-written data migration.
Each group gets ``view`` on every portal model, plus:

| group | may also change |
|---|---|
| ops_admin | everything in the portal apps (add, change, delete), and users and groups |
| devops | configuration: APM, alert rules, integrations, channels, silences, escalation, runbooks, DB events, on-call |
| on_call | the work of a shift: alerts, incidents and their timeline, silences, on-call overrides (swaps) |
| emergency_response | incidents, their timeline, escalation contacts and policies, on-call schedules and overrides |
| support | incident notes (the timeline) |
"""

from django.apps import apps as global_apps

PORTAL_APPS = ("tenancy", "notifications", "apm", "alerts", "incidents", "dbmonitor", "oncall")

# (app_label, model_name) -> the actions beyond view; model names are Django's lower-case names.
_CONFIG = {
    ("apm", "*"),
    ("alerts", "alertrule"),
    ("alerts", "alertintegration"),
    ("notifications", "notificationchannel"),
    ("alerts", "suppressionrule"),
    ("notifications", "notificationrule"),
    ("incidents", "escalationpolicy"),
    ("incidents", "escalationstep"),
    ("incidents", "escalationcontact"),
    ("incidents", "runbook"),
    ("dbmonitor", "monitoringevent"),
    ("oncall", "*"),
}
_SHIFT = {
    ("alerts", "alerthistory"),
    ("alerts", "suppressionrule"),
    ("incidents", "incident"),
    ("incidents", "incidentupdate"),
    ("incidents", "postincidentanalysis"),
    ("oncall", "override"),
}
_EMERGENCY = {
    ("incidents", "incident"),
    ("incidents", "incidentupdate"),
    ("incidents", "escalationcontact"),
    ("incidents", "escalationpolicy"),
    ("incidents", "escalationstep"),
    ("oncall", "schedule"),
    ("oncall", "rotation"),
    ("oncall", "rotationparticipant"),
    ("oncall", "override"),
}
_SUPPORT = {("incidents", "incidentupdate")}

GROUPS = {
    "ops_admin": None,  # None: every permission of the portal apps
    "devops": _CONFIG,
    "on_call": _SHIFT,
    "emergency_response": _EMERGENCY,
    "support": _SUPPORT,
}


def _matches(rules, app_label: str, model: str) -> bool:
    return (app_label, model) in rules or (app_label, "*") in rules


def sync_staff_groups(apps=global_apps, **kwargs) -> dict[str, int]:
    """Create the staff groups and set their permissions; returns ``{group: permission count}``.

    Connected to ``post_migrate`` (every app's), so it also runs as part of
    ``migrate``; safe to run any number of times.
    """
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:
        return {}
    perms = list(Permission.objects.filter(content_type__app_label__in=PORTAL_APPS).select_related("content_type"))
    auth_perms = list(Permission.objects.filter(content_type__app_label="auth"))
    result = {}
    for name, rules in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        chosen = []
        for perm in perms:
            action = perm.codename.split("_", 1)[0]
            app_label, model = perm.content_type.app_label, perm.content_type.model
            if rules is None or action == "view" or _matches(rules, app_label, model):
                chosen.append(perm)
        if rules is None:
            chosen.extend(auth_perms)
        group.permissions.set(chosen)
        result[name] = len(chosen)
    return result
