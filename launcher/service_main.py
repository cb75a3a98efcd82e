"""Process entry of one service: `python -m launcher.service_main KIND [--town SLUG]`.

eventlet must patch the standard library before anything else is imported.
"""

import warnings

# eventlet announces its maintenance mode on import; nameko 2.14 depends on it.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from launcher.probe import heartbeat_path, keep_beating  # noqa: E402
from launcher.registry import SERVICE_KINDS, build_service  # noqa: E402
from soesmart.config import Settings  # noqa: E402
from soesmart.runtime import nameko_config  # noqa: E402

STOP_DEADLINE = 10.0


def main(argv: list[str] | None = None) -> int:
    from nameko.runners import ServiceRunner

    from soesmart.messaging.topology import declare_all
    from soesmart.towns import towns

    parser = argparse.ArgumentParser(prog="soesmart run-service")
    parser.add_argument("kind", choices=SERVICE_KINDS)
    parser.add_argument("--town", help="town slug (participation only)")
    args = parser.parse_args(argv)

    overrides = {"town": args.town} if args.town else {}
    settings = Settings(**overrides)
    logging.basicConfig(
        level=settings.log_level,
        format=f"%(asctime)s {args.kind}{'/' + args.town if args.town else ''} "
        "%(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("amqp").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # One log line per HTTP request costs a large share of the gateway's CPU;
    # an access log belongs in the reverse proxy in front of it.
    logging.getLogger("nameko.web.server").setLevel(logging.WARNING)
    # The preflight first (inside build_service): a towns file with a slug twice or an
    # unknown town is refused naming the problem, before the registry is read or a queue
    # is declared.
    service = build_service(args.kind, settings)
    declare_all(settings.broker_url, towns(), settings.queue_type)
    runner = ServiceRunner(nameko_config(settings))
    runner.add_service(service)

    heartbeat = heartbeat_path(settings, args.kind)

    def _stop_within_deadline() -> None:
        heartbeat.unlink(missing_ok=True)  # stopping: no longer alive for the probes
        # A graceful stop waits for running workers and for the broker; if the broker
        # is gone it would wait forever. After the deadline, kill; as a last resort, exit.
        eventlet.spawn_after(STOP_DEADLINE + 5, os._exit, 1)
        try:
            with eventlet.Timeout(STOP_DEADLINE):
                runner.stop()
        except eventlet.Timeout:
            logging.getLogger("soesmart").warning("graceful stop timed out; killing")
            runner.kill()

    def _shutdown(signum, frame):  # type: ignore[no-untyped-def]
        eventlet.spawn(_stop_within_deadline)

    signal.signal(signal.SIGTERM, _shutdown)
    signal.signal(signal.SIGINT, _shutdown)
    runner.start()
    # From the hub the service's workers run on: a hub that stops yielding stops the
    # heartbeat, and `python -m launcher.probe live` fails (launcher/probe.py).
    beating = eventlet.spawn(keep_beating, heartbeat)
    logging.getLogger("soesmart").info("%s started", args.kind)
    try:
        runner.wait()
    except Exception:
        logging.getLogger("soesmart").exception("service crashed")
        return 1
    finally:
        beating.kill()
        heartbeat.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
