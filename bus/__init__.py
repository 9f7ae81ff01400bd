"""The MQTT contract every motcua process shares: topics, typed messages, the client wrapper."""
