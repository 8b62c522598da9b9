from shared.migrations import run_env
from services.registry.models import metadata

run_env(metadata)
