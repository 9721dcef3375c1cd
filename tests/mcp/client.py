"""An MCP client for tests/serve_mcp.rs, made with the official Python SDK (`mcp`).

`client.py URL TOKEN` reads one JSON command per line from standard input and prints one JSON
answer per line: `{"list": true}` lists the tools; `{"call": TOOL, "args": {...}, "meta":
{...}}` calls one. TOKEN (or `-` for none) is sent as a bearer token, `x-intent-token` from
the command's `delegation` field when given, and any `headers` it names (a new client per
command).

`client.py keys DIR ISSUER AUDIENCE SUB...`: writes DIR/jwks.json (an RSA key) and prints a
JSON object of RS256 bearer tokens, one per subject.
"""
import asyncio
import json
import sys
import time

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


def keys(out, iss, aud, subs):
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "rsa-mcp", "use": "sig", "alg": "RS256"})
    with open(f"{out}/jwks.json", "w") as f:
        json.dump({"keys": [jwk]}, f)
    now = int(time.time())
    tokens = {
        s: jwt.encode({"iss": iss, "aud": aud, "sub": s, "iat": now, "exp": now + 3600}, key,
                      algorithm="RS256", headers={"kid": "rsa-mcp"})
        for s in subs
    }
    print(json.dumps(tokens))


def answer_of(r):
    text = " ".join(getattr(c, "text", "") for c in r.content)
    return {"is_error": bool(r.is_error), "text": text, "structured": r.structured_content,
            "meta": r.meta}


async def run(url, token):
    headers = {} if token == "-" else {"authorization": f"Bearer {token}"}
    lines = [json.loads(l) for l in sys.stdin if l.strip()]
    for cmd in lines:
        h = dict(headers)
        if cmd.get("delegation"):
            h["x-intent-token"] = cmd["delegation"]
        h.update(cmd.get("headers", {}))
        try:
            async with httpx2.AsyncClient(headers=h, timeout=30) as http:
                async with Client(streamable_http_client(url, http_client=http), mode=cmd.get("mode", "auto")) as c:
                    if cmd.get("list"):
                        t = await c.list_tools()
                        out = {"tools": sorted(x.name for x in t.tools),
                               "schemas": {x.name: x.input_schema for x in t.tools}}
                    else:
                        r = await c.call_tool(cmd["call"], cmd.get("args", {}), meta=cmd.get("meta"))
                        out = answer_of(r)
        except Exception as e:  # a refusal before MCP (401/403) or a protocol error
            out = {"exception": f"{type(e).__name__}: {e} {getattr(e, 'exceptions', '')}"}
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "keys":
        keys(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:])
    else:
        asyncio.run(run(sys.argv[1], sys.argv[2]))
