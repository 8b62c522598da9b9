"""The `doa` command: run the platform, its workers, and the operator's tasks."""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import click
from sqlalchemy import func, select

from shared.config import SERVICES, Config, settings_table
from shared.logs import configure_logging


def _config() -> Config:
    config = Config()
    configure_logging(config.LOG_LEVEL, config.LOG_FORMAT)
    return config


@click.group()
def main() -> None:
    """dayofaction: coordinate a worldwide day of action."""


@main.command()
@click.option("--host", default=None, help="Listen address (default: HOST).")
@click.option("--port", type=int, default=None, help="Port (default: PORT).")
@click.option("--demo", is_flag=True, help="Load the demo data when the platform is empty.")
def run(host, port, demo) -> None:
    """Start the whole platform in this process (embedded mode)."""
    from waitress import create_server

    from services.platform import EmbeddedPlatform
    from services.registry.first_start import ensure_first_coordinator

    config = _config()
    host, port = host or config.HOST, port or config.PORT
    if "PUBLIC_URL" not in os.environ:  # links in e-mails point at this server unless told otherwise
        config = config.replace(PUBLIC_URL=f"http://{host}:{port}")
    platform = EmbeddedPlatform(config)
    registry = platform.kernels["registry"]
    platform.start_workers()
    if demo:
        _load_demo_if_empty(platform)
    first_key = ensure_first_coordinator(registry)
    # Waitress takes in a request body whole before the app sees it (spooled to a temporary
    # file past 512 KB), refusing more than max_request_body_size: let the largest upload through.
    largest = max(config.MEDIA_MAX_PHOTO_BYTES, config.MEDIA_MAX_VIDEO_BYTES, config.MEDIA_MAX_AUDIO_BYTES,
                  config.MEDIA_MAX_DOCUMENT_BYTES)
    # Waitress drops X-Forwarded-* it was not told to trust; with PROXY_HOPS the apps judge them
    # (werkzeug's ProxyFix believes exactly that many proxies), so waitress passes them on.
    server = create_server(platform.wsgi, host=host, port=port, threads=8, ident="dayofaction",
                           max_request_body_size=largest + 1024 * 1024,
                           clear_untrusted_proxy_headers=not config.PROXY_HOPS)
    base = f"http://{host}:{server.effective_port}"
    click.echo(f"\ndayofaction is running at {base}/")
    click.echo(f"API documentation: {base}/api/registry/docs (and /api/events/docs, /api/media/docs, /api/notify/docs)")
    if first_key:
        click.echo("\nA first coordinator was created. Its API key, shown this once:\n")
        click.echo(f"    {first_key}\n")
        click.echo(f"Sign in at {base}/signin with it: the first time, you set up a second factor "
                   "(an authenticator app or a passkey), which every sign-in then asks for.")
        click.echo(f"Exchange it for a token:  curl -X POST -H 'Authorization: Bearer {first_key}' {base}/api/registry/tokens\n")
    sys.stdout.flush()

    def shutdown(*_):
        raise KeyboardInterrupt  # leaves waitress's loop; the workers stop below

    signal.signal(signal.SIGTERM, shutdown)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        platform.stop()
        click.echo("dayofaction stopped.")


@main.command()
@click.argument("service", type=click.Choice(SERVICES))
def worker(service) -> None:
    """Run one service's bus worker: its outbox relay and its consumer."""
    from services.platform import build_kernel

    config = _config()
    kernel = build_kernel(service, config, jwks=lambda: {"keys": []})
    bus_worker = kernel.worker().start()
    signal.signal(signal.SIGTERM, lambda *_: bus_worker.request_stop())
    signal.signal(signal.SIGINT, lambda *_: bus_worker.request_stop())
    click.echo(f"{service} worker running on {config.BUS_URL.split('@')[-1]}")
    heartbeat = Path(config.WORKER_HEARTBEAT_FILE) if config.WORKER_HEARTBEAT_FILE else None
    try:
        bus_worker.wait(heartbeat)
    except RuntimeError as exc:
        raise SystemExit(f"{service} worker: {exc}") from None


@main.command()
@click.argument("services", nargs=-1, type=click.Choice(SERVICES))
def migrate(services) -> None:
    """Bring the databases of SERVICES (default: all) up to date."""
    from services.platform import SPECS
    from shared.db import Database
    from shared.migrations import upgrade

    config = _config()
    for name in services or SERVICES:
        db = Database(config.database_url(name))
        upgrade(db, SPECS[name].migrations)
        db.dispose()
        click.echo(f"{name}: up to date")


@main.group()
def bus() -> None:
    """The message bus: the dead-letter queue."""


@bus.command("dead-letters")
def dead_letters() -> None:
    """List the messages parked in the dead-letter queue, with why."""
    from shared.bus.dead_letters import list_parked

    config = _config()
    parked = list_parked(config.BUS_URL, config.BUS_EXCHANGE)
    for item in parked:
        body = item.body if isinstance(item.body, dict) else {}
        click.echo(f"{item.id}  {body.get('type', '?')}  service={item.service or '-'}  "
                   f"tries={item.headers.get('x-attempts', '?')}  reason={item.headers.get('x-dead-reason', '?')}")
    click.echo(f"{len(parked)} parked message(s)")


@bus.command("replay")
@click.argument("message_ids", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Replay every parked message.")
def replay_dead_letters(message_ids, everything) -> None:
    """Send parked messages back to the service that parked them (after fixing the cause)."""
    from shared.bus.dead_letters import replay

    if not message_ids and not everything:
        raise click.UsageError("name the message ids to replay, or give --all")
    config = _config()
    replayed = replay(config.BUS_URL, config.BUS_EXCHANGE, None if everything else set(message_ids))
    click.echo(f"replayed {len(replayed)} message(s)")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object instead of the table.")
@click.option("--stuck-after", default=60.0, show_default=True, help="Seconds after which a waiting message is trouble.")
def status(as_json, stuck_after) -> None:
    """Is anything stuck? Unsent bus messages and their age, queue depths, dead letters, e-mail
    and webhooks waiting or failed, disabled endpoints. Exit status 1 when something is."""
    import json

    from services.status import status as read_status

    report = read_status(_config(), stuck_after)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        width = max(len(line.what) for line in report.lines)
        for line in report.lines:
            value = "-" if line.value is None else line.value
            click.echo(f"{'!' if line.trouble else ' '} {line.what:<{width}}  {value}")
        click.echo("all clear" if report.healthy else "needs attention (lines marked !)")
    raise SystemExit(0 if report.healthy else 1)


@main.command("config")
def show_config() -> None:
    """Print every setting as the README's table."""
    click.echo(settings_table())


@main.group()
def admin() -> None:
    """Tasks of the coalition office."""


@admin.command("create-coordinator")
@click.argument("name")
def create_coordinator(name) -> None:
    """Create a coordinator and print its first API key (shown once)."""
    from services.registry import app as registry_app
    from services.registry import service
    from shared.audit import record

    kernel = registry_app.build(_config())
    with kernel.db.transaction() as session:
        coordinator = service.create_coordinator(session, name.strip() or "Coordinator")
        _, key = service.issue_key(session, "coordinator", coordinator.id, "created by doa admin")
        record(session, kernel.outbox, None, "coordinator.created", "coordinator", coordinator.id,
               after={"name": coordinator.name})
    click.echo(f"Coordinator {coordinator.name} ({coordinator.id}). API key, shown this once:")
    click.echo(key)


@main.group()
def registry() -> None:
    """The registry's data."""


@registry.command("rotate-signing-key")
@click.option("--overlap", type=int, default=None,
              help="Seconds the old keys keep verifying tokens (default: an hour; at least the longest "
                   "token lifetime and the services' key cache).")
def rotate_signing_key(overlap) -> None:
    """Make a new token-signing key; the old ones retire after the overlap, then are erased."""
    from services.registry import app as registry_app
    from services.registry import tokens

    config = _config()
    if config.REGISTRY_SIGNING_KEY:
        raise click.ClickException("REGISTRY_SIGNING_KEY is set: put the new key there and restart the registry "
                                   "(the old key then retires after the overlap by itself).")
    kernel = registry_app.build(config)
    try:
        rotation = tokens.rotate(kernel.db, kernel.outbox, tokens.DEFAULT_OVERLAP if overlap is None else overlap)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--overlap") from None
    for kid in rotation.erased:
        click.echo(f"erased the retired key {kid}")
    click.echo(f"new signing key {rotation.new_kid}: in the JWKS now, signing tokens "
               + (f"in {tokens.PUBLISH_BEFORE_USE} seconds" if rotation.retiring else "at once (no other key)"))
    for kid, when in rotation.retiring.items():
        click.echo(f"old key {kid} leaves the JWKS at {when.isoformat(timespec='seconds')}")


@registry.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Import the good rows even if some are bad.")
def import_organisations(file: Path, skip_bad: bool) -> None:
    """Import organisations from a CSV file (a re-run changes nothing)."""
    from services.registry import app as registry_app

    kernel = registry_app.build(_config())
    report = _import(kernel, file, skip_bad)
    if report.errors and not skip_bad:
        sys.exit(1)


def _import(kernel, file: Path, skip_bad: bool):
    from services.registry.importer import ImportReport, import_rows, parse

    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{file} is not UTF-8 text: {exc}") from None
    rows, errors = parse(text)
    report = ImportReport(errors=errors)
    for error in errors:
        click.echo(f"{file}: {error}", err=True)
    if errors and not skip_bad:
        click.echo(f"{len(errors)} problem(s) found; nothing imported. Fix them, or give --skip-bad.", err=True)
        return report
    with kernel.db.transaction() as session:
        with click.progressbar(length=len(rows), label="Importing organisations", file=sys.stderr) as bar:
            import_rows(session, kernel.outbox, rows, report, bar.update)
    click.echo(f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
               f"skipped {len({e.line for e in errors})} bad row(s)")
    return report


@main.group()
def audit() -> None:
    """The record of every decision (kept by the registry)."""


@audit.command("verify")
def verify_audit() -> None:
    """Check the whole hash chain: exit 1 and say where if an entry was changed or removed."""
    from services.registry import app as registry_app
    from services.registry.audit import verify

    kernel = registry_app.build(_config())
    with kernel.db.transaction() as session:
        verdict = verify(session)
    for problem in verdict.problems:
        click.echo(f"audit log: {problem}", err=True)
    if not verdict.intact:
        click.echo(f"The audit log does NOT hold: {len(verdict.problems)} problem(s) in {verdict.entries} "
                   "entries.", err=True)
        sys.exit(1)
    click.echo(f"The audit log holds: {verdict.entries} entries, chained. Head: {verdict.head}")
    click.echo("Keep the head somewhere else; a later verify that prints a chain not ending in it means "
               "the log was rewritten.")


@audit.command("export")
@click.option("--format", "format_", type=click.Choice(["jsonl", "csv"]), default="jsonl")
def export_audit(format_: str) -> None:
    """Write the whole log, oldest first, to standard output."""
    from services.registry import app as registry_app
    from services.registry.audit_api import export_lines

    kernel = registry_app.build(_config())
    for line in export_lines(kernel.db, {}, format_):
        click.echo(line, nl=False)


@main.command()
def demo() -> None:
    """Load the demo: the 29 signatories of 2022, the 2022 campaign and sample events, and a day
    of action four weeks ahead whose events take sign-ups."""
    from services import demo as demo_data
    from services.platform import build_kernels

    kernels = build_kernels(_config())
    workers = [kernels[name].worker().start() for name in ("registry", "events", "notify")]
    try:
        demo_data.load(kernels["registry"], kernels["events"], click.echo, notify=kernels["notify"])
    finally:
        for worker in workers:
            worker.stop()


def _load_demo_if_empty(platform) -> None:
    from services import demo as demo_data
    from services.registry.models import Organisation

    registry = platform.kernels["registry"]
    with registry.db.transaction() as session:
        count = session.execute(select(func.count()).select_from(Organisation)).scalar_one()
    if count == 0:
        click.echo("Loading the demo data (the 2022 campaign and one to come)…")
        demo_data.load(registry, platform.kernels["events"], click.echo, notify=platform.kernels["notify"])


if __name__ == "__main__":
    main()
