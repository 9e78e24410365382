from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader
from django.templatetags.static import static


@login_not_required
def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


@login_not_required
def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


@login_not_required
def server_error(request):
    # No request context: the failure may have come from a context processor or the database.
    return HttpResponseServerError(loader.get_template("500.html").render())


@login_not_required
def favicon(request):
    return redirect(static("img/favicon.svg"), permanent=True)
