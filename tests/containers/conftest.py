"""The compose stack in real containers (podman here, no Docker engine): slow, and it needs
podman and root. `make test-containers` runs it (DOA_TEST_CONTAINERS=1); `make test`, which
collects tests/, leaves it out."""
import os

if os.environ.get("DOA_TEST_CONTAINERS") != "1":
    collect_ignore = ["test_stack.py"]
