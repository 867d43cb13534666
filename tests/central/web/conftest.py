"""Fixtures of the staff web application's tests (reused by every page's tests).

``staff_web``        the app on a real HTTPS server on 127.0.0.1 over an initialised central body
                     (``central``, tests/central/conftest.py), in a thread of the test process.
``staff_member``     ``staff_member(name, roles)``: an account with a password (TOTP set up at its
                     first sign-in), returned as a ``StaffAccount`` that makes its codes.
``signed_in_page``   ``signed_in_page(name)``: a Playwright page (its own browser context, CSP
                     bypassed so axe-core can be injected) signed in through the real pages.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.central_cli import Central
from tests.support.staff_web import PASSWORD, StaffAccount, StaffWeb, sign_in


@pytest.fixture
def staff_web(central: Central) -> Iterator[StaffWeb]:
    web = StaffWeb(central.data_dir)
    try:
        yield web
    finally:
        web.close()


@pytest.fixture
def staff_member(staff_web: StaffWeb) -> Callable[..., StaffAccount]:
    accounts: dict[str, StaffAccount] = {}

    def make(name: str, roles: tuple[str, ...] | list[str] | str = ("admin",), password: str | None = None,
             ) -> StaffAccount:
        chosen = (roles,) if isinstance(roles, str) else tuple(roles)
        account = StaffAccount(name, chosen, password or PASSWORD)
        staff_web.book.add(name, account.password, chosen, "test-setup")
        accounts[name] = account
        return account

    make.accounts = accounts  # type: ignore[attr-defined]
    return make


@pytest.fixture
def signed_in_page(browser: Any, staff_web: StaffWeb, staff_member: Callable[..., StaffAccount]
                   ) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []

    def open_as(name: str, roles: tuple[str, ...] | str | None = None) -> Any:
        accounts = staff_member.accounts  # type: ignore[attr-defined]
        account = accounts.get(name) or staff_member(name, roles or ("admin",))
        page = sign_in(browser, staff_web, account)
        contexts.append(page.context)
        return page

    yield open_as
    for context in contexts:
        context.close()
