from shared.migrations import run_env
from services.events.models import metadata

run_env(metadata)
