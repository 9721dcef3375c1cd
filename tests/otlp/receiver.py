"""A small OTLP/HTTP trace receiver for tests/serve_otlp.rs, made of Python's http.server and
the official OpenTelemetry protobuf types (PyPI `opentelemetry-proto`), nothing of ours.

It accepts `POST /v1/traces` with `content-type: application/x-protobuf` (OTLP/HTTP's binary
encoding), decodes the body as an `ExportTraceServiceRequest`, and prints every span it holds
as one JSON line on stdout: name, kind, trace and span ids and the parent span id in lowercase
hex, start and end times, the span's attributes, its resource's attributes and its scope's
name. It answers an empty `ExportTraceServiceResponse`. Any other path or content type gets
404 or 415, and a body that does not decode gets 400, so an exporter that speaks something
else fails the test instead of passing it.
It prints `listening on PORT` once it listens on 127.0.0.1 (PORT chosen by the system).
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span


def value(v):
    """An OTLP AnyValue as plain JSON."""
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: value(kv.value) for kv in v.kvlist_value.values}
    if kind == "bytes_value":
        return v.bytes_value.hex()
    if kind is None:
        return None
    return getattr(v, kind)


def attributes(kvs):
    return {kv.key: value(kv.value) for kv in kvs}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/x-protobuf"):
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        if self.path != "/v1/traces":
            return self.answer(404, b"no such path", "text/plain")
        if self.headers.get("content-type") != "application/x-protobuf":
            return self.answer(415, b"OTLP/HTTP protobuf only", "text/plain")
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except DecodeError as e:
            return self.answer(400, f"not an ExportTraceServiceRequest: {e}".encode(), "text/plain")
        lines = []
        for rs in request.resource_spans:
            resource = attributes(rs.resource.attributes)
            for ss in rs.scope_spans:
                for span in ss.spans:
                    lines.append(
                        json.dumps(
                            {
                                "name": span.name,
                                "kind": Span.SpanKind.Name(span.kind),
                                "trace_id": span.trace_id.hex(),
                                "span_id": span.span_id.hex(),
                                "parent_span_id": span.parent_span_id.hex(),
                                "start_time_unix_nano": span.start_time_unix_nano,
                                "end_time_unix_nano": span.end_time_unix_nano,
                                "attributes": attributes(span.attributes),
                                "resource": resource,
                                "scope": ss.scope.name,
                            }
                        )
                    )
        if lines:
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
        self.answer(200, ExportTraceServiceResponse().SerializeToString())


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
