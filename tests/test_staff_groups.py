"""The staff groups (docs/design/architecture.md) exist after migrate, with the permissions their work needs."""

from django.contrib.auth.models import Group

from wedsync_ops.tenancy.groups import GROUPS, sync_staff_groups


def _codenames(group_name):
    return set(Group.objects.get(name=group_name).permissions.values_list("codename", flat=True))


def test_every_staff_group_exists_after_migrate(db):
    assert set(Group.objects.values_list("name", flat=True)) >= set(GROUPS)


def test_on_call_works_incidents_but_cannot_edit_rules_and_support_only_writes_notes(db):
    on_call = _codenames("on_call")
    assert {"change_incident", "change_alerthistory", "view_alertrule"} <= on_call
    assert "change_alertrule" not in on_call and "delete_organization" not in on_call
    support = _codenames("support")
    assert {"add_incidentupdate", "view_incident"} <= support and "change_incident" not in support
    assert "change_alertrule" in _codenames("devops")
    assert {"delete_organization", "change_user"} <= _codenames("ops_admin")


def test_a_staff_member_of_on_call_acknowledges_from_the_admin_but_cannot_open_rules(world, client):
    world.staff.groups.add(Group.objects.get(name="on_call"))
    client.force_login(world.staff)
    assert client.get("/admin/incidents/incident/").status_code == 200
    assert client.get("/admin/alerts/alertrule/add/").status_code == 403


def test_sync_is_idempotent(db):
    first = sync_staff_groups()
    assert sync_staff_groups() == first and first["ops_admin"] > first["support"]
