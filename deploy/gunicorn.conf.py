"""gunicorn settings shared by every service (Procfile and docker-compose alike)."""
import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
timeout = 30
graceful_timeout = 10
accesslog = None  # the app logs every request itself, as JSON, with its request id (never the client's address)
errorlog = "-"
# The gateway in front sets X-Forwarded-*; trust it only from where it runs. gunicorn takes the
# scheme (X-Forwarded-Proto) from these addresses itself; the apps believe the rest through
# PROXY_HOPS (werkzeug's ProxyFix). Behind TLS both make the session cookie Secure.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def _redacting_logger():
    """gunicorn's own logger, its lines written without an IP or e-mail address (its error log
    says "Invalid request from ip=…")."""
    from gunicorn.glogging import Logger

    from shared.logs import RedactFilter

    class RedactingLogger(Logger):
        def setup(self, cfg):
            super().setup(cfg)
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.addFilter(RedactFilter())

    return RedactingLogger


logger_class = _redacting_logger()


def post_worker_init(worker):
    """The app is loaded: what it made at start (templates, the world map, settings, country
    names…) lives as long as the worker, so the collector need not walk it again at every
    full collection of a request that makes many objects (a campaign page of 5,000 events)."""
    import gc

    gc.freeze()
