"""Guards for dashboard views: signed in, in a company, and allowed by the role table."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from accounts.permissions import Perm, has_perm


def principal_required(view: Callable | None = None, *, perm: Perm | None = None) -> Callable:
    def decorator(view_func: Callable) -> Callable:
        @wraps(view_func)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if request.principal is None:
                return redirect("accounts:no_company")
            if perm is not None and not has_perm(request.principal, perm):
                raise PermissionDenied(f"Your role does not allow this ({perm}).")
            return view_func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator
