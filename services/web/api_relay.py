"""`/api/<service>/…` on the web front's own port, when it runs on its own with a base URL per
service (the Procfile): the pages link to calendar feeds, files and the material package
under /api/, and with no gateway in front those links must still answer. Each request goes on
to its service as it came (method, query, body streamed, the caller's own Authorization),
naming the visitor; the answer comes back streamed. Behind the gateway (docker-compose) /api/
never reaches the web front."""
from __future__ import annotations

from flask import Blueprint, Response, abort, request, stream_with_context

from services.web.client import StreamBody, api

# Hop-by-hop headers (RFC 9110 §7.6.1) and what the relay sets itself; the web's own cookie
# stays with the web.
NOT_ASKED = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
             "transfer-encoding", "upgrade", "host", "cookie", "content-length", "x-forwarded-for",
             "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port", "x-forwarded-prefix", "forwarded"}
NOT_ANSWERED = {"connection", "keep-alive", "proxy-authenticate", "te", "trailer", "transfer-encoding", "upgrade",
                "set-cookie"}
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
READ_TIMEOUT = 600.0  # seconds: an upload's last bytes wait while the media service stores the file


bp = Blueprint("api_relay", __name__)


@bp.route("/api/<service>/", defaults={"rest": ""}, methods=METHODS)
@bp.route("/api/<service>/<path:rest>", methods=METHODS)
def relay(service: str, rest: str):
    client = api()
    if service not in (client.services or ()):
        abort(404)
    headers = {k: v for k, v in request.headers.items() if k.lower() not in NOT_ASKED}
    body = None
    if request.content_length:
        body = StreamBody(request.stream, request.content_length)
    elif request.headers.get("Transfer-Encoding", "").lower() == "chunked":  # no length: sent on chunked too
        body = iter(lambda: request.stream.read(StreamBody.CHUNK), b"")
    answer = client.send(request.method, f"/api/{service}/{rest}", params=request.query_string.decode("latin-1"),
                         headers=headers, data=body, stream=True, allow_redirects=False,
                         timeout=(client.timeout, READ_TIMEOUT))
    out = [(k, v) for k, v in answer.raw.headers.items() if k.lower() not in NOT_ANSWERED]

    def chunks():
        try:
            yield from answer.raw.stream(StreamBody.CHUNK, decode_content=False)
        finally:
            answer.close()

    return Response(stream_with_context(chunks()), status=answer.status_code, headers=out,
                    direct_passthrough=True)

