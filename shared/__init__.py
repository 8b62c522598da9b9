"""The kernel every dayofaction service uses. It imports no service."""
