"""The broker addresses and queue type of the settings: several nodes, one queue type."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from soesmart.config import Settings
from soesmart.messaging.broker import BrokerAddress, broker_addresses, broker_urls, queue_type_from_env
from soesmart.messaging.topology import (
    MEASURES_QUEUE,
    all_durable_queues,
    dead_letter_queue,
    rpc_queue,
)
from soesmart.towns import towns

CLUSTER = ("amqp://soesmart:secret@rabbit-a:5672/region; amqp://soesmart:secret@rabbit-b:5672/region;"
           "amqp://soesmart:secret@rabbit-c:5673/region")


def test_a_broker_url_may_name_several_nodes_separated_by_semicolons() -> None:
    assert broker_urls(CLUSTER) == [
        "amqp://soesmart:secret@rabbit-a:5672/region",
        "amqp://soesmart:secret@rabbit-b:5672/region",
        "amqp://soesmart:secret@rabbit-c:5673/region",
    ]
    assert [a.host for a in broker_addresses(CLUSTER)] == ["rabbit-a:5672", "rabbit-b:5672",
                                                          "rabbit-c:5673"]
    assert broker_urls("amqp://guest:guest@127.0.0.1:5672/;") == ["amqp://guest:guest@127.0.0.1:5672/"]


def test_one_address_gives_user_password_and_virtual_host() -> None:
    assert BrokerAddress.parse("amqp://u%40x:p%3Bw@h:5701/soesmart-test") == BrokerAddress(
        host="h:5701", userid="u@x", password="p;w", virtual_host="soesmart-test")
    assert BrokerAddress.parse("amqp://h").virtual_host == "/"  # no path: the default vhost
    assert BrokerAddress.parse("amqp://h/%2F").virtual_host == "/"
    assert BrokerAddress.parse("amqp://h/").host == "h:5672"
    assert BrokerAddress.parse("amqp://h/").userid == "guest"


@pytest.mark.parametrize("url", ["", " ; ", "http://rabbit:5672/", "amqp://a:5672/;redis://b:6379/0"])
def test_the_settings_refuse_a_broker_list_without_brokers_or_with_another_scheme(url: str) -> None:
    with pytest.raises(ValidationError, match="SOESMART_BROKER_URL"):
        Settings(broker_url=url)


def test_the_settings_take_a_cluster_and_default_to_quorum_queues(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOESMART_QUEUE_TYPE", raising=False)
    settings = Settings(broker_url=CLUSTER)
    assert settings.broker_url == CLUSTER
    assert settings.queue_type == "quorum"
    monkeypatch.setenv("SOESMART_QUEUE_TYPE", "classic")
    assert Settings().queue_type == "classic"
    assert queue_type_from_env() == "classic"
    monkeypatch.setenv("SOESMART_QUEUE_TYPE", "lazy")
    with pytest.raises(ValidationError):
        Settings()
    with pytest.raises(ValueError, match="quorum or classic"):
        queue_type_from_env()


@pytest.mark.parametrize("queue_type", ["quorum", "classic"])
def test_every_durable_queue_has_the_configured_type(queue_type: str) -> None:
    queues = all_durable_queues(towns(), queue_type)  # type: ignore[arg-type]
    names = {q.name for q in queues}
    assert {"soesmart.dead-letters", "measures.events", "notifications.events",
            "rpc-measures", "rpc-notifications"} <= names
    assert {f"rpc-{t.service_name}" for t in towns()} <= names
    assert {f"participation.{t.slug}.events" for t in towns()} <= names
    for queue in queues:
        assert queue.durable and not queue.auto_delete and not queue.exclusive, queue.name
        assert queue.queue_arguments["x-queue-type"] == queue_type, queue.name
    # event queues still send what the broker rejects to the dead letters
    events = MEASURES_QUEUE.to_queue(queue_type)  # type: ignore[arg-type]
    assert events.queue_arguments["x-dead-letter-exchange"] == "soesmart.dead-letters"


def test_without_a_type_given_the_queues_follow_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOESMART_QUEUE_TYPE", "classic")
    assert dead_letter_queue().queue_arguments["x-queue-type"] == "classic"
    monkeypatch.delenv("SOESMART_QUEUE_TYPE")
    assert rpc_queue("measures").queue_arguments["x-queue-type"] == "quorum"
    assert rpc_queue("measures").routing_key == "measures.*"  # as nameko binds it
