"""A static HTTPS file server for tests/serve_identity.rs: Python's own `http.server` wrapped in
its `ssl` module (OpenSSL), so the sidecar fetches its key set from a TLS server it did not write.

`https_server.py DIR CERT KEY`: serves DIR on 127.0.0.1 at a free port with the certificate
chain CERT and key KEY, prints the port on a line of its own, and serves until killed. Each
request is logged on stderr.
"""
import functools
import http.server
import ssl
import sys


def main(root: str, cert: str, key: str) -> None:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:4])
