"""An RPC call past its deadline says 503 and leaves nothing behind in the caller.

A service whose request queue exists but has no consumer never answers; nameko's
reply listener would keep one waiting entry per such call for the life of the
gateway process. Runs in a child process with eventlet, as the services do, against
the real broker.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.support.infra import create_vhost, delete_vhost

SCRIPT = textwrap.dedent(
    """
    import eventlet
    eventlet.monkey_patch()
    import sys
    from kombu import Connection, Queue
    from nameko.containers import ServiceContainer
    from nameko.rpc import get_rpc_exchange, rpc
    from nameko.testing.services import entrypoint_hook
    from soesmart.messaging.rpc_client import ServiceUnavailable, TimedRpc

    config = {"AMQP_URI": sys.argv[1], "SOESMART_RPC_TIMEOUT": 0.3}

    # "silent": its request queue exists (so the call is routed) but nobody consumes it
    with Connection(sys.argv[1]) as conn:
        Queue("rpc-silent", exchange=get_rpc_exchange(config), routing_key="silent.*",
              durable=True)(conn.default_channel).declare()

    class Caller:
        name = "caller"
        remote = TimedRpc()

        @rpc
        def probe(self, calls):
            refused = 0
            for _ in range(calls):
                try:
                    self.remote.call("silent", "ping")
                except ServiceUnavailable:
                    refused += 1
            return refused, len(self.remote._reply_listener._reply_events)

    container = ServiceContainer(Caller, config)
    container.start()
    try:
        with entrypoint_hook(container, "probe") as probe:
            refused, waiting = probe(5)
            print(refused, waiting)
    finally:
        container.stop()
    """
)


def test_calls_past_their_deadline_are_refused_and_forgotten() -> None:
    vhost, url = create_vhost()
    try:
        run = subprocess.run([sys.executable, "-c", SCRIPT, url], capture_output=True, text=True,
                             timeout=60)
    finally:
        delete_vhost(vhost)
    assert run.returncode == 0, run.stderr[-3000:]
    refused, waiting = run.stdout.split()[-2:]
    assert refused == "5", "every call past its deadline is a ServiceUnavailable (503)"
    assert waiting == "0", "no reply is waited for after its deadline"
