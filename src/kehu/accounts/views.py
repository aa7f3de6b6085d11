import datetime

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import roles, services
from .forms import LoginForm, ProfileForm, TeamForm, UserCreateForm, UserEditForm
from .models import LoginFailure, Team, User

LOGIN_WINDOW = datetime.timedelta(minutes=15)
LOGIN_MAX_FAILURES = 10


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def too_many_failures(username: str, ip: str | None) -> bool:
    since = timezone.now() - LOGIN_WINDOW
    recent = LoginFailure.objects.filter(at__gte=since)
    by_name = recent.filter(username=username.lower()).count()
    by_ip = recent.filter(ip_address=ip).count() if ip else 0
    return by_name >= LOGIN_MAX_FAILURES or by_ip >= LOGIN_MAX_FAILURES * 3


class KehuLoginView(auth_views.LoginView):
    """Login with throttling: 10 failures for a name, or 30 from an address, in 15 minutes
    lock further attempts for the rest of the window, whatever the password."""

    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        username = (request.POST.get("username") or "").strip()
        if too_many_failures(username, client_ip(request)):
            form = self.get_form()
            form.errors.clear()
            form.add_error(None, _("Too many failed sign-ins. Wait 15 minutes and try again."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        username = (self.request.POST.get("username") or "").strip().lower()[:150]
        LoginFailure.objects.create(username=username, ip_address=client_ip(self.request))
        LoginFailure.objects.filter(at__lt=timezone.now() - LOGIN_WINDOW * 4).delete()
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)
        apply_language(self.request, response, form.get_user().language)
        return response


def apply_language(request, response, language: str) -> None:
    from django.conf import settings

    if language:
        request.session["kehu_language"] = language
        translation.activate(language)
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
    else:
        request.session.pop("kehu_language", None)
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)


@login_required
def profile(request):
    if request.method == "POST":
        form = ProfileForm(request.POST, instance=request.user)
        if form.is_valid():
            form.save()
            response = redirect("accounts:profile")
            apply_language(request, response, form.cleaned_data["language"])
            translation.activate(form.cleaned_data["language"] or translation.get_language())
            messages.success(request, _("Your settings are saved."))
            return response
    else:
        form = ProfileForm(instance=request.user)
    return render(request, "accounts/profile.html", {"form": form})


@login_required
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password is changed."))
        return redirect("accounts:profile")
    return render(request, "accounts/password_change.html", {"form": form})


def admin_required(view):
    @login_required
    def wrapped(request, *args, **kwargs):
        if not roles.is_admin(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    return wrapped


@admin_required
def user_list(request):
    users = User.objects.select_related("team").order_by("username")
    teams = Team.objects.all()
    return render(request, "accounts/user_list.html", {"users": users, "teams": teams})


@admin_required
def user_create(request):
    form = UserCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_create(actor_user=request.user, form=form)
        messages.success(request, _("User created."))
        return redirect("accounts:users")
    return render(request, "accounts/user_form.html", {"form": form, "creating": True})


@admin_required
def user_edit(request, pk):
    user = get_object_or_404(User, pk=pk)
    form = UserEditForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        services.user_update(actor_user=request.user, form=form)
        messages.success(request, _("User saved."))
        return redirect("accounts:users")
    return render(request, "accounts/user_form.html", {"form": form, "edited": user})


@admin_required
def team_create(request):
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Team created."))
        return redirect("accounts:users")
    return render(request, "accounts/team_form.html", {"form": form})


@admin_required
def team_edit(request, pk):
    team = get_object_or_404(Team, pk=pk)
    form = TeamForm(request.POST or None, instance=team)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Team saved."))
        return redirect("accounts:users")
    return render(request, "accounts/team_form.html", {"form": form, "edited": team})


@require_POST
@admin_required
def team_delete(request, pk):
    team = get_object_or_404(Team, pk=pk)
    team.delete()
    messages.success(request, _("Team deleted; its members and customers now have no team."))
    return redirect("accounts:users")
