"""The registry: organisations, coordinators, their API keys and the tokens signed for them."""
