"""Login throttling (django-axes) settings that need code."""

from django.http import HttpRequest

# django-axes' username column (AccessAttempt.username).
AXES_USERNAME_MAX_LENGTH = 255


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str | None:
    """The username django-axes counts failed logins and locks out by: the one
    typed, cut to the length of axes' column. A longer one was a database error
    (a server error for the user), so such attempts were never counted."""
    username = credentials.get("username") if credentials else request.POST.get("username")
    return username[:AXES_USERNAME_MAX_LENGTH] if isinstance(username, str) else username
