"""`soesmart staff create|list|disable`: staff accounts in the gateway's database."""

from __future__ import annotations

import argparse
import os
import sys

from soesmart.config import Settings
from soesmart.towns import towns


def ensure_demo_staff(settings: Settings) -> list:
    """In a demo network: the demo staff accounts (created if missing), to print them."""
    if not settings.demo:
        return []
    from services.gateway.service_layer.staff import StaffAccounts

    return StaffAccounts(settings).ensure_demo_accounts(towns())


def _staff_password() -> str:
    password = os.environ.get("SOESMART_STAFF_PASSWORD")
    if password is not None:
        return password
    import getpass

    password = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("Repeat the password: ") != password:
        raise SystemExit("the passwords differ; nothing was created")
    return password


def cmd_staff(args: argparse.Namespace) -> int:
    """Staff accounts in the gateway's database (SOESMART_DATABASE_URL_TEMPLATE or var/gateway.db)."""
    from services.gateway.domain.staff import AccountExists, StaffRuleViolated
    from services.gateway.service_layer.staff import StaffAccounts

    settings = Settings()
    if args.action == "create":
        if args.town and args.town not in towns().slugs:
            print(f"refused: unknown town {args.town!r}; known: {', '.join(towns().slugs)}",
                  file=sys.stderr)
            return 2
        try:
            account = StaffAccounts(settings).create(args.email, args.name, args.role, args.town,
                                                     _staff_password())
        except StaffRuleViolated as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return 2
        except AccountExists:
            print(f"refused: an account with {args.email} exists already", file=sys.stderr)
            return 2
        print(f"Created {account.role.value} {account.email}"
              + (f" for {account.town}" if account.town else "") + ".")
        return 0
    store = StaffAccounts(settings)
    if args.action == "disable":
        disabled = store.disable(args.email)
        if disabled is None:
            print(f"no account with {args.email}", file=sys.stderr)
            return 1
        print(f"Disabled {disabled.email}; its sessions and tokens ended.")
        return 0
    for a in store.accounts():
        print(f"{a.email:<40} {a.role.value:<12} {a.town or '-':<16} "
              f"{'active' if a.active else 'disabled':<9} {a.display_name}"
              + (" (demo)" if a.demo else ""))
    return 0
