"""The message bus: envelope, catalogue, topology, outbox, relay and consumers (kombu)."""
