from functools import wraps

from django.http import Http404


def staff_required(view_func):
    """Staff pages: for everyone else they do not exist (404), so they are not advertised."""

    @wraps(view_func)
    def wrapper(request, *args, **kwargs):
        if not (request.user.is_authenticated and request.user.is_staff and request.user.is_active):
            raise Http404
        return view_func(request, *args, **kwargs)

    return wrapper
