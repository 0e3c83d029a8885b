"""The "Moderators" group: what the review queue needs in the admin, and nothing more. Its members
also need is_staff to enter the admin, and the guild permissions (MANAGE_MESSAGES, ...) to act:
the services check those."""
from django.db import migrations

NEEDED = [("moderation", "flag", ["view", "change"]), ("moderation", "warning", ["view"]),
          ("guilds", "auditlogentry", ["view"])]


def create_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are created after all migrations run; this one needs them now. A migration's app
    # configs have no models module, which create_permissions takes for "no models": lend one.
    for label in ("moderation", "guilds"):
        config = apps.get_app_config(label)
        lent = getattr(config, "models_module", None) is None
        if lent:
            config.models_module = True
        create_permissions(config, verbosity=0, apps=apps)
        if lent:
            config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Moderators")
    codenames = [(app, f"{verb}_{model}") for app, model, verbs in NEEDED for verb in verbs]
    perms = [Permission.objects.get(content_type__app_label=app, codename=code) for app, code in codenames]
    group.permissions.set(perms)


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Moderators").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0001_initial"),
        ("guilds", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
