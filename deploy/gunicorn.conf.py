"""gunicorn settings shared by every service (Procfile and docker-compose alike)."""
import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 10
accesslog = None  # the app logs every request itself, as JSON, with its request id
errorlog = "-"
# The gateway in front sets X-Forwarded-*; trust it only from where it runs.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
