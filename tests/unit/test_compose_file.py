"""docker-compose.yml, the Dockerfile and the gateway's nginx.conf, checked as files.

No Docker engine is needed: these tests read the repository's own files and compare them with
the Procfile and shared/config.py, so the container setup cannot drift from the other two modes.
"""
from __future__ import annotations

import fnmatch
import re
import shlex
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from sqlalchemy.engine import make_url

from services.web.client import Api
from services.web.wsgi import api_url
from shared.config import SERVICES, SETTINGS, Config

ROOT = Path(__file__).resolve().parents[2]
INFRA = ("redis", "postgres", "minio", "gateway")
# Infrastructure images configured through variables of their own, not the code's.
OWN_VARIABLES = {"postgres": "POSTGRES_", "minio": "MINIO_", "minio-setup": "MINIO_"}
MEDIA_SERVICES = ("media", "media-worker")
# The public site: the same image, no database and no bus; it reads each API at its own address.
WEB = "web"
WEB_TARGET = "services.web.wsgi:create_app()"
# Read by deploy/gunicorn.conf.py, not by the code's SETTINGS.
GUNICORN_VARS = {"WEB_CONCURRENCY", "WEB_THREADS", "FORWARDED_ALLOW_IPS"}
# gunicorn options that take a value (as the next word when not written `--opt=value`).
GUNICORN_VALUE_OPTIONS = {"-c", "--config", "-b", "--bind", "-w", "--workers", "--threads",
                          "-k", "--worker-class", "-t", "--timeout", "--chdir"}


# --- reading the files ---------------------------------------------------------------------

def read_procfile() -> dict[str, str]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, command = line.partition(":")
        assert sep, f"Procfile line without `name: command`: {line!r}"
        entries[name.strip()] = command.strip()
    return entries


@pytest.fixture(scope="module")
def procfile() -> dict[str, str]:
    entries = read_procfile()
    assert entries, "the Procfile has no entries"
    return entries


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict[str, dict]:
    return compose["services"]


@pytest.fixture(scope="module")
def app_services(services) -> dict[str, dict]:
    """The services that run the dayofaction image (not redis, postgres, the gateway)."""
    apps = {name: s for name, s in services.items() if s.get("image", "").startswith("dayofaction")}
    assert apps, "docker-compose.yml runs no dayofaction service"
    return apps


def as_words(command) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(word) for word in command]


def normalize(command) -> tuple:
    """What must agree between the Procfile and compose: the program and what it runs.

    gunicorn: its config file and the app factory (the bind address differs on purpose);
    anything else (`doa worker X`): every word.
    """
    words = as_words(command)
    while words and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", words[0]):  # `VAR=value cmd`: the environment
        words = words[1:]
    if not words or words[0] != "gunicorn":
        return tuple(words)
    config, targets, i = None, [], 1
    while i < len(words):
        word = words[i]
        option, eq, value = word.partition("=")
        if word.startswith("-") and option in GUNICORN_VALUE_OPTIONS:
            if not eq:
                i += 1
                value = words[i]
            if option in ("-c", "--config"):
                config = value
        elif not word.startswith("-"):
            targets.append(word)
        i += 1
    return ("gunicorn", config, tuple(targets))


def assignments(command) -> dict[str, str]:
    """The `VAR=value` words a shell command starts with."""
    found = {}
    for word in as_words(command):
        name, eq, value = word.partition("=")
        if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            break
        found[name] = value
    return found


def gunicorn_bind(command) -> str | None:
    words = as_words(command)
    for i, word in enumerate(words):
        if word in ("-b", "--bind"):
            return words[i + 1]
        if word.startswith("--bind="):
            return word.partition("=")[2]
    return None


def base_service(name: str) -> str:
    return name.removesuffix("-worker")


def is_worker(name: str) -> bool:
    return name.endswith("-worker")


def interpolate(value: str) -> str:
    """Compose's interpolation with every variable unset: `${X:-default}` becomes the default."""
    value = re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-([^}]*)\}", r"\1", str(value))
    assert not re.search(r"\$\{?[A-Za-z_]", value.replace("$$", "")), f"no default in {value!r}"
    return value.replace("$$", "$")


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the `- KEY=value` form
        env = dict(item.partition("=")[::2] for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):  # the short form has no condition
        return {name: "service_started" for name in deps}
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def healthcheck_text(service: dict) -> str:
    check = service.get("healthcheck") or {}
    assert not check.get("disable"), "health check disabled"
    test = check.get("test")
    assert test, "no health check test"
    if isinstance(test, str):
        return test
    assert test[0] in ("CMD", "CMD-SHELL"), f"health check test starts with {test[0]!r}"
    return " ".join(str(word) for word in test[1:])


def volume_targets(service: dict) -> dict[str, str]:
    """container path -> source, for the short `source:target[:mode]` syntax."""
    targets = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            targets[volume["target"]] = volume.get("source", "")
        else:
            parts = volume.split(":")
            targets[parts[1]] = parts[0]
    return targets


# --- nginx.conf ------------------------------------------------------------------------------

NGINX_TOKEN = re.compile(r"""\#[^\n]*|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[{};]|[^\s{};'"#]+""")


def parse_nginx(text: str) -> list:
    """Directives as (name, args, children); children is None for a simple directive."""
    tokens = [t for t in NGINX_TOKEN.findall(text) if not t.startswith("#")]
    position = 0

    def block() -> list:
        nonlocal position
        directives, words = [], []
        while position < len(tokens):
            token = tokens[position]
            position += 1
            if token == ";":
                directives.append((words[0], words[1:], None))
                words = []
            elif token == "{":
                children = block()
                directives.append((words[0], words[1:], children))
                words = []
            elif token == "}":
                assert not words, f"unterminated directive {words}"
                return directives
            else:
                words.append(token[1:-1] if token[0] in "'\"" else token)
        assert not words, f"unterminated directive {words}"
        return directives

    directives = block()
    assert position == len(tokens), "unbalanced braces in nginx.conf"
    return directives


@pytest.fixture(scope="module")
def nginx_server() -> list:
    directives = parse_nginx((ROOT / "deploy" / "nginx.conf").read_text())
    servers = [children for name, _, children in directives if name == "server"]
    assert len(servers) == 1, "nginx.conf should hold one server block"
    return servers[0]


def values(directives: list, name: str) -> list[list[str]]:
    return [args for d, args, _ in directives if d == name]


def locations(server: list) -> dict[str, list]:
    """`location /x/ {}` -> its directives; exact matches are keyed `= /x`."""
    found = {}
    for name, args, children in server:
        if name == "location":
            found[" ".join(args)] = children
    return found


def proxy_target(location: list) -> str:
    """The location's proxy_pass, with the variables it `set` replaced by their values."""
    (target,) = values(location, "proxy_pass")
    variables = {args[0]: args[1] for args in values(location, "set")}
    return re.sub(r"\$\w+", lambda m: variables.get(m.group(0), m.group(0)), target[0])


# --- the Dockerfile --------------------------------------------------------------------------

def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text()
    lines, current = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") and not current:
            continue
        if line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip():
            lines.append(current.strip())
        current = ""
    instructions = []
    for line in lines:
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


# --- the tests -------------------------------------------------------------------------------

def test_every_procfile_entry_runs_the_same_command_in_compose(procfile, services):
    for name, command in procfile.items():
        assert name in services, f"Procfile entry {name!r} has no compose service"
        expected = normalize(command)
        actual = normalize(services[name].get("command") or [])
        assert actual == expected, f"{name}: compose runs {actual}, the Procfile {expected}"
        if expected[0] == "gunicorn":
            assert expected[1] == "deploy/gunicorn.conf.py", f"{name}: gunicorn without the shared config"
            target = WEB_TARGET if name == WEB else f"services.{name}.app:create_app()"
            assert expected[2] == (target,), f"{name}: {expected[2]}"
            # The health check and the gateway both reach the service on port 8000.
            assert gunicorn_bind(services[name]["command"]) == "0.0.0.0:8000", name
        else:
            assert expected == ("doa", "worker", base_service(name)), f"{name}: {expected}"


def test_every_app_service_is_in_the_procfile(procfile, app_services):
    assert set(app_services) == set(procfile)
    expected = {s for s in SERVICES} | {f"{s}-worker" for s in SERVICES} | {WEB}
    assert set(app_services) == expected


def test_every_service_has_a_health_check_that_tests_the_right_thing(services, app_services):
    for name in INFRA:
        assert name in services, f"no {name} service"
    for name, service in app_services.items():
        check = healthcheck_text(service)
        if is_worker(name):
            heartbeat = environment(service).get("WORKER_HEARTBEAT_FILE")
            assert heartbeat, f"{name}: WORKER_HEARTBEAT_FILE unset, so nothing is ever touched"
            assert heartbeat in check, f"{name}: the health check does not read {heartbeat}"
            assert "-lt" in check, f"{name}: the health check does not compare the heartbeat's age"
        else:
            assert "127.0.0.1:8000/readyz" in check, f"{name}: health check is {check!r}"
    assert "redis-cli ping" in healthcheck_text(services["redis"])
    assert "pg_isready" in healthcheck_text(services["postgres"])
    minio = healthcheck_text(services["minio"])
    assert "mc ready local" in minio or "/minio/health/live" in minio, minio
    assert "-U postgres" in healthcheck_text(services["postgres"])
    assert "http://127.0.0.1/healthz" in healthcheck_text(services["gateway"])


def test_services_start_after_what_they_need_is_healthy(services, app_services):
    for name, service in app_services.items():
        deps = depends_on(service)
        if name == WEB:  # no database, no bus: the APIs it reads
            assert deps == {s: "service_healthy" for s in SERVICES}, deps
            continue
        for needed in ("redis", "postgres"):
            assert deps.get(needed) == "service_healthy", f"{name} -> {needed}: {deps.get(needed)}"
        if is_worker(name):  # the web process migrates the schema first
            assert deps.get(base_service(name)) == "service_healthy", f"{name}: {deps}"
        elif name != "registry":  # the others fetch the registry's public keys
            assert deps.get("registry") == "service_healthy", f"{name}: {deps}"
    gateway = depends_on(services["gateway"])
    for name in SERVICES:
        assert gateway.get(name) == "service_healthy", f"gateway -> {name}: {gateway.get(name)}"
    # nginx finds the web service when it proxies (a variable upstream), so it need not wait for it.
    assert WEB not in gateway, "gateway -> web: the gateway would wait for the site it fronts"


def test_redis_keeps_the_queues(services):
    words = as_words(services["redis"]["command"])
    assert words[0] == "redis-server"
    options = {}
    for i, word in enumerate(words):
        if word.startswith("--") and i + 1 < len(words):
            options[word[2:]] = words[i + 1]
    assert options.get("appendonly") == "yes"
    assert options.get("appendfsync") == "everysec"
    assert options.get("maxmemory-policy") == "noeviction"
    assert "/data" in volume_targets(services["redis"]), "Redis's data is not on a volume"


def test_each_service_has_its_own_database(services, app_services):
    postgres = services["postgres"]
    password = interpolate(environment(postgres)["POSTGRES_PASSWORD"])
    init = volume_targets(postgres)
    scripts = [source for target, source in init.items() if target.startswith("/docker-entrypoint-initdb.d")]
    assert scripts == ["./deploy/postgres-init.sql"], init
    created = re.findall(r"CREATE\s+DATABASE\s+(\w+)", (ROOT / "deploy/postgres-init.sql").read_text(), re.I)
    assert sorted(created) == sorted(SERVICES)
    for name, service in app_services.items():
        own = base_service(name)
        env = environment(service)
        urls = {key for key in env if key.endswith("_DATABASE_URL")}
        if name == WEB:
            assert not urls, f"web: {urls} (it reads the APIs, no database)"
            continue
        assert urls == {f"{own.upper()}_DATABASE_URL"}, f"{name}: {urls}"
        url = make_url(interpolate(env[f"{own.upper()}_DATABASE_URL"]))
        assert url.get_backend_name() == "postgresql", f"{name}: {url}"
        assert (url.host, url.port, url.database) == ("postgres", 5432, own), f"{name}: {url}"
        assert url.password == password, f"{name}: not the postgres service's password"


def test_compose_sets_only_variables_the_code_reads(services):
    declared = {setting.name for setting in SETTINGS}
    gunicorn_reads = set(re.findall(r"os\.environ\.get\(\"(\w+)\"", (ROOT / "deploy/gunicorn.conf.py").read_text()))
    assert gunicorn_reads == GUNICORN_VARS, "deploy/gunicorn.conf.py reads other variables now"
    for name, service in services.items():
        allowed = declared | GUNICORN_VARS
        unknown = {key for key in environment(service) if key not in allowed}
        if name in OWN_VARIABLES:
            unknown = {key for key in unknown if not key.startswith(OWN_VARIABLES[name])}
        assert not unknown, f"{name} sets variables nothing reads: {sorted(unknown)}"


def pinned(image: str, repository: str) -> bool:
    name, _, tag = image.partition(":")
    return name == repository and tag.startswith("RELEASE.")


def test_media_keep_their_files_in_minio_and_start_after_it(services, app_services):
    minio, setup = services["minio"], services["minio-setup"]
    assert pinned(minio["image"], "minio/minio"), f"minio: {minio['image']} (pin a RELEASE tag)"
    assert as_words(minio["command"]) == ["server", "/data", "--console-address", ":9001"]
    assert "/data" in volume_targets(minio), "MinIO's data is not on a volume"
    credentials = environment(minio)
    user, password = (interpolate(credentials[k]) for k in ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"))
    assert len(user) >= 3 and len(password) >= 8, "MinIO refuses to start with shorter credentials"

    # The one-shot setup makes the bucket once MinIO answers, and is not restarted.
    assert pinned(setup["image"], "minio/mc"), f"minio-setup: {setup['image']} (pin a RELEASE tag)"
    assert depends_on(setup) == {"minio": "service_healthy"}
    assert setup.get("restart", "no") == "no"
    script = " ".join(as_words(setup.get("entrypoint") or []) + as_words(setup.get("command") or []))
    assert "http://minio:9000" in script

    for name in MEDIA_SERVICES:
        env = environment(app_services[name])
        store = urlparse(env.get("MEDIA_STORAGE_URL", ""))
        assert (store.scheme, store.path) == ("s3", "/media"), f"{name}: {env.get('MEDIA_STORAGE_URL')}"
        assert re.search(rf"\bmc mb\b[^\n]*/{re.escape(store.netloc)}\b", script), \
            f"minio-setup does not create the bucket {store.netloc!r}"
        assert env.get("S3_ENDPOINT_URL") == "http://minio:9000", name
        # The same variables as MinIO's own, so setting them once changes both sides.
        assert env.get("S3_ACCESS_KEY_ID") == credentials["MINIO_ROOT_USER"], name
        assert env.get("S3_SECRET_ACCESS_KEY") == credentials["MINIO_ROOT_PASSWORD"], name
        deps = depends_on(app_services[name])
        assert deps.get("minio") == "service_healthy", f"{name}: {deps}"
        assert deps.get("minio-setup") == "service_completed_successfully", f"{name}: {deps}"
        # The work dir stays on the shared volume: resumable uploads' parts are written by the web
        # process and purged, once expired, by the worker.
        assert volume_targets(app_services[name]).get("/app/var") == "media-files", name
    for name, service in app_services.items():
        if name not in MEDIA_SERVICES:
            assert not {k for k in environment(service) if k.startswith("S3_") or k == "MEDIA_STORAGE_URL"}, name


def test_the_app_services_share_one_image_and_find_each_other(app_services):
    for name, service in app_services.items():
        assert service.get("image") == "dayofaction:latest", name
        assert service.get("build") in (".", {"context": "."}), name
        env = environment(service)
        if name == WEB:
            assert not {"BUS_URL", "JWKS_URL"} & set(env), "web: it uses neither the bus nor the keys"
            continue
        assert env.get("BUS_URL") == "redis://redis:6379/0", f"{name}: {env.get('BUS_URL')}"
        assert env.get("JWKS_URL") == "http://registry:8000/api/registry/.well-known/jwks.json", name


def test_the_gateway_routes_each_service_with_its_path(services, nginx_server):
    gateway = services["gateway"]
    mounts = {target.split(":")[0]: source for target, source in volume_targets(gateway).items()}
    assert mounts.get("/etc/nginx/conf.d/default.conf") == "./deploy/nginx.conf", mounts
    assert any(":80" in str(port) and "DOA_PORT" in str(port) for port in gateway.get("ports", [])), gateway.get("ports")
    routes = locations(nginx_server)
    for name in SERVICES:
        location = routes.get(f"/api/{name}/")
        assert location is not None, f"nginx.conf has no location /api/{name}/"
        target = proxy_target(location)
        # No URI after host:port: nginx passes the path unchanged (no prefix stripping).
        assert target == f"http://{name}:8000", f"/api/{name}/ goes to {target}"
    healthz = routes.get("= /healthz")
    assert healthz is not None and values(healthz, "return")[0][0] == "200"
    # An /api/ path no service has is still answered as a problem, not by the site.
    unknown = routes.get("/api/")
    assert unknown is not None and values(unknown, "return")[0][0] == "404", unknown
    assert "application/problem+json" in [args[0] for args in values(unknown, "default_type")]


def test_the_gateway_serves_the_public_site_and_the_site_reads_each_api_directly(compose, services,
                                                                                   nginx_server):
    web = services[WEB]
    # Every path but /api/* and /healthz goes to the web service, on the port it binds.
    site = locations(nginx_server).get("/")
    assert site is not None, "nginx.conf has no location /"
    assert not values(site, "return"), "location / answers itself instead of proxying to the web service"
    assert proxy_target(site) == f"http://{WEB}:8000", f"/ goes to {proxy_target(site)}"
    assert gunicorn_bind(web["command"]) == "0.0.0.0:8000"
    assert not web.get("ports"), "the web service is reached through the gateway only"

    # WEB_API_URL: each service at the address its gunicorn binds inside the network, not the
    # gateway: the services take the visitor's address from the web's X-Forwarded-For (one
    # trusted hop), which through the gateway would become the web's own.
    env = environment(web)
    api = Api(api_url(Config(environ={"WEB_API_URL": env["WEB_API_URL"]})))
    assert api.services == set(SERVICES), env.get("WEB_API_URL")
    for name in SERVICES:
        port = gunicorn_bind(services[name]["command"]).rpartition(":")[2]
        assert api.url(f"/api/{name}/x") == f"http://{name}:{port}/api/{name}/x", (name, env["WEB_API_URL"])
    assert env.get("PROXY_HOPS") == "1", "web: the gateway's X-Forwarded-* are not trusted (or too many hops are)"
    assert env.get("FORWARDED_ALLOW_IPS") == "*"

    # One session key for all its workers: given, or made once on a volume they share.
    assert "WEB_SECRET_KEY" in env, "web: WEB_SECRET_KEY is not passed on"
    secret = env["WEB_SECRET_KEY"]
    assert re.fullmatch(r"\$\{WEB_SECRET_KEY(:\?[^}]+|:-)\}", secret), f"web: WEB_SECRET_KEY is {secret!r}"
    if secret.endswith(":-}"):  # unset: the key file in DOA_VAR_DIR (/app/var) outlives the container
        volume = volume_targets(web).get("/app/var")
        assert volume in (compose.get("volumes") or {}), f"web: /app/var on {volume!r}, not a named volume"
        others = {n for n, s in services.items() if n != WEB and volume_targets(s).get("/app/var") == volume}
        assert not others, f"web shares its volume {volume!r} with {others}"


def test_the_procfile_web_reads_each_service_at_its_own_port(procfile):
    """No gateway in the Procfile mode: WEB_API_URL names each service's port, with the same
    variable and default as the line that serves it."""
    command = procfile[WEB]
    assert normalize(command) == ("gunicorn", "deploy/gunicorn.conf.py", (WEB_TARGET,))
    assert re.fullmatch(r"\$\{BIND_HOST:-127\.0\.0\.1\}:\$\{WEB_PORT:-\d+\}", gunicorn_bind(command))
    port = {name: gunicorn_bind(procfile[name]).partition("}:")[2] for name in (*SERVICES, WEB)}  # ${X_PORT:-n}
    value = assignments(command).get("WEB_API_URL", "")
    default = re.fullmatch(r"\$\{WEB_API_URL:-(.*)\}", value)  # an operator may still set it
    assert default, f"the Procfile's WEB_API_URL is {value!r}"
    bases = dict(item.split("=", 1) for item in default.group(1).split(","))
    assert set(bases) == set(SERVICES), bases
    assert len({interpolate(p) for p in port.values()}) == len(port), f"two Procfile entries share a port: {port}"
    for name in SERVICES:
        assert bases[name] == f"http://127.0.0.1:{port[name]}", f"web -> {name}: {bases[name]}, {name}: {port[name]}"
    # What the shell makes of it is what the web front takes, and sends each call to its service.
    value = interpolate(default.group(1))
    api = Api(api_url(Config(environ={"WEB_API_URL": value})))
    for name in SERVICES:
        assert api.url(f"/api/{name}/readyz") == f"http://127.0.0.1:{interpolate(port[name])}/api/{name}/readyz"


def test_the_gateway_limits_bodies_and_passes_the_request_id(nginx_server):
    routes = locations(nginx_server)
    assert values(nginx_server, "client_max_body_size") == [["1m"]]
    media = routes["/api/media/"]
    assert values(media, "client_max_body_size") == [["2100m"]]
    assert values(media, "proxy_request_buffering") == [["off"]]
    for name in SERVICES:
        if name != "media":
            assert not values(routes[f"/api/{name}/"], "client_max_body_size"), name
    # The web front's pages that take files: the forms (a whole video) and the script's
    # resumable parts (5 MiB), streamed on; both go to the web service.
    forms = routes["~ ^/me/(reports|campaigns/[^/]+/material-files)$"]
    parts = routes["/me/uploads"]
    assert values(forms, "client_max_body_size") == [["2100m"]]
    assert int(values(parts, "client_max_body_size")[0][0].rstrip("m")) > 5
    for location in (forms, parts):
        assert values(location, "proxy_request_buffering") == [["off"]]
        assert proxy_target(location) == "http://web:8000"
    headers = {args[0].lower(): args[1] for args in values(nginx_server, "proxy_set_header")}
    for header in ("host", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-request-id"):
        assert header in headers, f"the gateway does not set {header}"
    # proxy_set_header in a location would silently drop every header set at server level.
    for path, location in routes.items():
        assert not values(location, "proxy_set_header"), f"{path} overrides the proxy headers"
    directives = parse_nginx((ROOT / "deploy" / "nginx.conf").read_text())
    maps = {args[1]: children for name, args, children in directives if name == "map"}
    request_id = headers["x-request-id"]
    assert request_id in maps and maps[request_id][0][0] == "default", "X-Request-ID not mapped"
    assert ("", ["$request_id"], None) in maps[request_id], "no $request_id when the client sends none"


def test_the_dockerfile_installs_ffmpeg_and_runs_as_a_non_root_user():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", "python:3.11-slim")
    runs = [rest for keyword, rest in instructions if keyword == "RUN"]
    install = next((r for r in runs if re.search(r"apt-get install\b.*\bffmpeg\b", r)), None)
    assert install, "ffmpeg is not installed"
    assert "--no-install-recommends" in install and "rm -rf /var/lib/apt/lists" in install
    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), f"runs as {users[-1:] or 'root'}"
    assert any(re.search(rf"useradd\b.*\b{re.escape(users[-1].split(':')[0])}\b", r) for r in runs)
    pip = next((r for r in runs if "pip install" in r), "")
    assert re.search(r"pip install\b.*\s\.(\s|$)", pip) and " -e " not in pip, pip
    assert ("WORKDIR", "/app") in instructions
    assert ("EXPOSE", "8000") in instructions
    assert instructions[-1] == ("CMD", '["doa", "--help"]')


def test_the_dockerfile_copies_what_exists_and_is_not_ignored():
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    for needed in (".venv", ".git", "var", "tests"):
        assert needed in ignored, f".dockerignore does not leave out {needed}"
    sources = []
    for keyword, rest in dockerfile_instructions():
        if keyword == "COPY" and "--from" not in rest:
            sources += rest.split()[:-1]
    assert {"pyproject.toml", "shared/", "services/", "deploy/"} <= set(sources), sources
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
        assert not any(fnmatch.fnmatch(source.rstrip("/"), pattern) for pattern in ignored), \
            f"COPY {source}: left out by .dockerignore"
