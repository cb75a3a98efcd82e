"""The `soesmart` command: start the whole network, one service, or look after it.

    soesmart up                 all services, the five towns, demo data, pages on localhost
    soesmart run-service KIND   one service process (what compose and `up` start)
    soesmart towns              the configured towns
    soesmart dead-letters       what landed in the dead-letter queue, and why
    soesmart rebuild-results    rebuild the combined results from the towns' own ratings
    soesmart republish-catalogue  publish every measure again (after adding a town)
    soesmart staff create|list|disable  staff accounts (town admins, coordinators)
    soesmart migrate            every instance's database to the newest schema
    soesmart backup DIR         every instance's database into DIR, with a manifest
    soesmart restore DIR        back from such a backup (--only INSTANCE), results rebuilt
    soesmart probe live|ready KIND  liveness / readiness of one process (exec probes)
    soesmart kubernetes-towns   write deploy/kubernetes/base/towns/ from the towns file
"""

from __future__ import annotations

import argparse
import os
import sys

from launcher.backup import cmd_backup, cmd_restore
from launcher.kubernetes import cmd_kubernetes_towns
from launcher.maintenance import cmd_dead_letters, cmd_rebuild_results, cmd_republish_catalogue
from launcher.migrate import cmd_migrate
from launcher.registry import ENTRY_MODULE
from launcher.staff import cmd_staff
from launcher.up import cmd_up
from soesmart.towns import towns


def cmd_run_service(args: argparse.Namespace) -> int:
    cmd = [sys.executable, "-m", ENTRY_MODULE, args.kind]
    if args.town:
        cmd += ["--town", args.town]
    os.execv(sys.executable, cmd)
    return 0  # not reached


def cmd_towns(args: argparse.Namespace) -> int:
    for t in towns():
        print(f"{t.slug:<16} {t.name:<22} {t.service_name:<30} {', '.join(t.postcodes)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="soesmart", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the whole network on this machine")
    up.add_argument("--port", type=int, help="HTTP port of the gateway (default 8000)")
    up.add_argument("--data-dir", help="where databases, mails and logs go (default ./var)")
    up.add_argument("--ready-timeout", type=float, default=90.0)
    up.set_defaults(func=cmd_up)
    run = sub.add_parser("run-service", help="run one service process")
    run.add_argument("kind", choices=["measures", "notifications", "participation", "gateway"])
    run.add_argument("--town")
    run.set_defaults(func=cmd_run_service)
    sub.add_parser("towns", help="list the configured towns").set_defaults(func=cmd_towns)
    sub.add_parser(
        "republish-catalogue", help="publish every measure again (after adding a town)"
    ).set_defaults(func=cmd_republish_catalogue)
    dl = sub.add_parser("dead-letters", help="show the dead-letter queue")
    dl.add_argument("--limit", type=int, default=50)
    dl.add_argument("--requeue", action="store_true", help="publish them again to their route")
    dl.set_defaults(func=cmd_dead_letters)
    rb = sub.add_parser("rebuild-results",
                        help="rebuild the combined results from the towns' own ratings")
    rb.add_argument("--town", action="append",
                    help="only this town (e.g. one that just joined); may be repeated")
    rb.add_argument("--page-size", type=int, default=2000)
    rb.set_defaults(func=cmd_rebuild_results)
    staff = sub.add_parser("staff", help="staff accounts: create, list, disable")
    staff_sub = staff.add_subparsers(dest="action", required=True)
    create = staff_sub.add_parser(
        "create", help="create an account; the password comes from SOESMART_STAFF_PASSWORD "
        "or is asked for")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="display name, e.g. 'Anna Schmidt (Menden)'")
    create.add_argument("--role", required=True, choices=["town_admin", "coordinator"])
    create.add_argument("--town", help="the town of a town admin (slug, e.g. menden)")
    staff_sub.add_parser("list", help="all accounts")
    disable = staff_sub.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("--email", required=True)
    staff.set_defaults(func=cmd_staff)
    sub.add_parser("migrate", help="bring every instance's database to the newest schema"
                   ).set_defaults(func=cmd_migrate)
    backup = sub.add_parser("backup", help="every instance's database into DIR, with a manifest")
    backup.add_argument("dir", help="a new or empty directory")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help="the databases back from a backup; stop the "
                             "instances concerned first")
    restore.add_argument("dir", help="a directory written by `soesmart backup`")
    restore.add_argument("--only", action="append", metavar="INSTANCE",
                         help="only this instance (measures, notifications, gateway, "
                         "participation_<town>); may be repeated")
    restore.add_argument("--no-rebuild", action="store_true",
                         help="do not rebuild the combined results from the towns afterwards")
    restore.set_defaults(func=cmd_restore)
    sub.add_parser("probe", add_help=False,
                   help="liveness / readiness of one process: probe live|ready KIND [--town]")
    k8s = sub.add_parser("kubernetes-towns",
                         help="write deploy/kubernetes/base/towns/ from the towns file")
    k8s.add_argument("--towns-file", help="default: SOESMART_TOWNS_FILE or soesmart/towns.toml")
    k8s.add_argument("--check", action="store_true", help="only check that it is up to date")
    k8s.set_defaults(func=cmd_kubernetes_towns)
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["probe"]:
        from launcher.probe import main as probe_main

        return probe_main(argv[1:])
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
