"""The app's background tasks (django-tasks): thin doors to the work in other modules.

A queued task is stored by its module path (``tokens.tasks.send_security_email``) and
its arguments: keep both stable, or tasks already in the queue cannot run.
"""

from django_tasks import task

from tokens import notifications


@task()
def send_security_email(event: str, user_id: str, details: dict, attempt: int = 1) -> str:
    """Send one security notification (``tokens.notifications.deliver``)."""
    return notifications.deliver(event, user_id, details, attempt)
