from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.chat import services


class Command(BaseCommand):
    help = "Delete uploads never sent within ATTACHMENT_UNSENT_HOURS and the files of deleted messages."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=settings.ATTACHMENT_UNSENT_HOURS,
                            help="Age after which an unsent upload is deleted.")

    def handle(self, *args, hours, **options):
        count = services.purge_stale_attachments(older_than=timedelta(hours=hours))
        self.stdout.write(f"Deleted {count} attachment(s).")
