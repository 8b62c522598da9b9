"""Connecting to the broker named by BUS_URL and declaring the topology on it."""
from __future__ import annotations

import base64
import ssl
import time
import uuid

from kombu import Connection
from kombu.transport import redis as kombu_redis
from kombu.utils.json import dumps, loads

from shared.bus.topology import Topology, exchange

# What a consumer is handed in place of an item on a Redis queue that is not a kombu message
# (someone ran `LPUSH queue garbage`): its content type is one no consumer accepts, so kombu
# calls the consumer's decode-error hook, which parks it with the reason.
FOREIGN = "application/x-doa-foreign"


def connect(url: str, visibility_timeout: int = 300) -> Connection:
    options: dict = {}
    extra: dict = {}
    if url.startswith(("redis://", "rediss://")):
        # A message taken by a consumer that died comes back after this many seconds (a live
        # consumer keeps the messages it is handling invisible: `keep_invisible`).
        options["visibility_timeout"] = visibility_timeout
        extra["transport"] = ScreeningRedisTransport
        if url.startswith("rediss://"):  # what kombu does for the scheme when it picks the transport itself
            extra["ssl"] = {"ssl_cert_reqs": ssl.CERT_NONE}
    if url.startswith(("amqp://", "pyamqp://", "amqps://")):
        # The broker confirms every publish, so the relay marks sent only what it holds.
        options["confirm_publish"] = True
    return Connection(url, transport_options=options, connect_timeout=5, **extra)


def declare_topology(channel, exchange_name: str, topology: Topology) -> None:
    """The exchange and every queue with its bindings, the dead-letter queue among them."""
    exchange(exchange_name)(channel).declare()
    for queue in topology.all_queues(exchange_name):
        queue(channel).declare()


def keep_invisible(message) -> None:
    """Redis only: tell the broker that `message` is still being handled, so it is not handed
    to another consumer after the visibility timeout (kombu restores an unacknowledged message
    whose entry in its index is older than that). Only an entry still there is touched: an
    acknowledged message is not brought back."""
    channel = message.channel
    index = getattr(channel, "unacked_index_key", None)
    if index is None or message.delivery_tag is None:  # RabbitMQ and memory:// need nothing
        return
    with channel.conn_or_acquire() as client:  # a client of its own: the consumer's is in a BRPOP
        client.zadd(index, {message.delivery_tag: time.time()}, xx=True)


def foreign_payload(raw: bytes | str, queue: str, why: str) -> dict:
    """A kombu message that carries an item which is not one, for the consumer to park."""
    data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "backslashreplace")
    return {"body": base64.b64encode(data).decode("ascii"), "content-encoding": "binary",
            "content-type": FOREIGN, "headers": {"x-foreign-reason": why[:500]},
            "properties": {"body_encoding": "base64", "delivery_tag": str(uuid.uuid4()), "delivery_mode": 2,
                           "priority": 0, "delivery_info": {"exchange": "", "routing_key": queue}}}


def _as_kombu(item: bytes, channel) -> tuple[dict | None, str]:
    """The kombu message `item` holds, or None and why it is not one."""
    try:
        payload = loads(item)
    except Exception as exc:
        return None, f"not JSON ({type(exc).__name__}: {exc})"
    try:
        properties = payload["properties"]
        if not isinstance(properties.get("delivery_info"), dict) or properties["delivery_tag"] is None:
            return None, "no delivery information"
        if not isinstance(payload.get("headers") or {}, dict):
            return None, "its headers are not an object"
        if payload.get("body"):
            channel.decode_body(payload["body"], properties.get("body_encoding"))
    except Exception as exc:
        return None, f"no kombu envelope ({type(exc).__name__}: {exc})"
    return payload, ""


class ScreeningRedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, with two changes to what BRPOP takes off a queue:

    - an item that is not a kombu message (plain text, JSON without kombu's envelope) reaches
      the consumer as a FOREIGN message instead of killing the consumer's thread (not JSON)
      or vanishing (no envelope); so does one that the dead-letter reader takes (RPOP);
    - a message is made this queue's own. kombu gives one delivery tag to every copy a topic
      exchange puts in several queues, and keeps unacknowledged messages by that tag: the
      first service to acknowledge its copy removed the others' entries (a consumer that then
      died lost its message for good), and a copy handed back after the visibility timeout
      went to every bound queue again. Here the tag names the queue too, and a copy handed
      back goes to this queue only."""

    def _create_client(self, asynchronous=False):
        client = super()._create_client(asynchronous=asynchronous)
        parse = client.response_callbacks.get("BRPOP")

        def screened(response, **options):
            result = parse(response, **options) if parse else response
            if not result:
                return result
            dest, item = result
            queue = kombu_redis.bytes_to_str(dest).rsplit(self.sep, 1)[0]
            payload, why = _as_kombu(item, self)
            if payload is None:
                return dest, dumps(foreign_payload(item, queue, why))
            properties = payload["properties"]
            tag = str(properties["delivery_tag"])
            if not tag.endswith(f"@{queue}"):
                properties["delivery_tag"] = f"{tag}@{queue}"
            properties["delivery_info"] = {**properties["delivery_info"], "exchange": "", "routing_key": queue}
            return dest, dumps(payload)

        def screened_get(response, **options):  # what basic_get takes (the dead-letter reader)
            if not response:
                return response
            payload, why = _as_kombu(response, self)
            return response if payload is not None else dumps(foreign_payload(response, "", why))

        client.set_response_callback("BRPOP", screened)
        client.set_response_callback("RPOP", screened_get)
        return client


class ScreeningRedisTransport(kombu_redis.Transport):
    Channel = ScreeningRedisChannel
