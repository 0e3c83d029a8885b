"""`manage.py runserver`: daphne's, plus Celery's worker and beat in the serving process when there
is no broker to send tasks to (`make run`; celery_app/embedded.py)."""
from daphne.management.commands.runserver import Command as DaphneRunserver
from django.conf import settings


class Command(DaphneRunserver):
    def inner_run(self, *args, **options):
        # inner_run is the serving process: under the autoreloader the child, not the watcher.
        if settings.CELERY_EMBEDDED:
            from celery_app import embedded

            embedded.start()
        super().inner_run(*args, **options)
