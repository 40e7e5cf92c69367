"""Existing users keep what they could do before teams: each joins every IP in each role held."""

from django.db import migrations

ROLE_NAMES = ("Producer", "Creative Director", "Catalog Admin")


def join_every_ip(apps, schema_editor) -> None:
    group_model = apps.get_model("auth", "Group")
    ip_model = apps.get_model("retrieval", "IP")
    membership_model = apps.get_model("teams", "Membership")
    ip_ids = list(ip_model.objects.values_list("pk", flat=True))
    rows = []
    for group in group_model.objects.filter(name__in=ROLE_NAMES):
        for user_id in group.user_set.values_list("pk", flat=True):
            rows.extend(
                membership_model(ip_id=ip_id, user_id=user_id, role=group.name) for ip_id in ip_ids
            )
    membership_model.objects.bulk_create(rows, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0001_memberships_and_invitations"),
        ("studio", "0002_role_groups"),
        ("retrieval", "0005_ip_required_approvals"),
    ]

    operations = [migrations.RunPython(join_every_ip, migrations.RunPython.noop)]
