"""Turns a domain error into form errors so pages show what the API would say."""
from apps.core.errors import DomainError


def add_domain_error(form, exc: DomainError) -> None:
    placed = False
    for field, messages in exc.fields.items():
        for message in messages if isinstance(messages, list) else [messages]:
            form.add_error(field if field in form.fields else None, str(message))
            placed = True
    if not placed:
        form.add_error(None, exc.message)
