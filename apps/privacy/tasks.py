"""Privacy's Celery tasks: thin doors onto services. They take ids, never objects."""
from celery import shared_task

from . import exporting, services


@shared_task(name="privacy.build_export", acks_late=True)
def build_export(export_id: int, site: str = "") -> str:
    """Build one data export (skipped if it is no longer pending: a redelivery does nothing)."""
    return exporting.build(export_id, site=site)


@shared_task(name="privacy.delete_due_accounts")
def delete_due_accounts() -> dict:
    """Hourly (celery beat): erase every account whose grace period ended."""
    return services.delete_due_accounts()


@shared_task(name="privacy.purge_expired_exports")
def purge_expired_exports() -> int:
    """Hourly (celery beat): delete the files of exports whose link expired."""
    return services.purge_expired_exports()
