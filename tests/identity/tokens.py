"""Tokens made by another implementation (PyJWT + cryptography) for tests/serve_identity.rs.

`tokens.py make DIR ISSUER AUDIENCE`: writes DIR/jwks.json (RSA, P-256 and Ed25519 public
keys with kids) and prints a JSON object of named tokens, good and bad, for subject `order_desk`
unless the name says otherwise (some with a `plan` claim, for tests/serve/callers.intent).
`tokens.py verify JWKS_URL TOKEN ISSUER`: verifies a delegation token minted by the sidecar
using only its /.well-known/jwks.json, and prints the claims as JSON.
`tokens.py sign KEY_PEM KID CLAIMS_JSON`: signs claims with a key `intent keys generate` wrote
(EdDSA), printing the token: delegation tokens the sidecar did not mint (expired ones, say).
"""
import base64
import hashlib
import hmac
import json
import sys
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk_of(key, kid):
    d = json.loads(jwt.algorithms.get_default_algorithms()[
        {"rsa": "RS256", "ec": "ES256", "ed": "EdDSA"}[kid.split("-")[0]]
    ].to_jwk(key.public_key()))
    d["kid"] = kid
    d["use"] = "sig"
    return d


def manual(header: dict, payload: dict, sign) -> str:
    h = b64(json.dumps(header, separators=(",", ":")).encode())
    p = b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{h}.{p}.{sign((h + '.' + p).encode())}"


def make(out: str, iss: str, aud: str) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ed_key = ed25519.Ed25519PrivateKey.generate()
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks = {"keys": [jwk_of(rsa_key, "rsa-1"), jwk_of(ec_key, "ec-1"), jwk_of(ed_key, "ed-1")]}
    with open(f"{out}/jwks.json", "w") as f:
        json.dump(jwks, f)
    now = int(time.time())

    def claims(sub="order_desk", **over):
        c = {"iss": iss, "aud": aud, "sub": sub, "iat": now, "exp": now + 600}
        c.update(over)
        return c

    def enc(c, key, alg, kid):
        return jwt.encode(c, key, algorithm=alg, headers={"kid": kid})

    rsa_pub_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    t = {
        "rs256": enc(claims(), rsa_key, "RS256", "rsa-1"),
        "es256": enc(claims(), ec_key, "ES256", "ec-1"),
        "eddsa": enc(claims(), ed_key, "EdDSA", "ed-1"),
        "order_desk": enc(claims("order_desk"), ed_key, "EdDSA", "ed-1"),
        "pay_bot": enc(claims("pay_bot"), ed_key, "EdDSA", "ed-1"),
        "refund_bot": enc(claims("refund_bot"), ed_key, "EdDSA", "ed-1"),
        "reporter": enc(claims("reporter"), ed_key, "EdDSA", "ed-1"),
        "frontend": enc(claims("frontend"), ed_key, "EdDSA", "ed-1"),
        "stranger_sub": enc(claims("mallory"), ed_key, "EdDSA", "ed-1"),
        # With a claim the mesh maps into its context (`plan: .. = claim "plan"`).
        "order_desk_pro": enc(claims("order_desk", plan="pro"), ed_key, "EdDSA", "ed-1"),
        "order_desk_free": enc(claims("order_desk", plan="free"), ed_key, "EdDSA", "ed-1"),
        "order_desk_nested": enc(claims("order_desk", plan={"tier": "pro"}), ed_key, "EdDSA", "ed-1"),
        "expired": enc(claims(exp=now - 3600, iat=now - 7200), rsa_key, "RS256", "rsa-1"),
        "not_yet_valid": enc(claims(nbf=now + 3600), rsa_key, "RS256", "rsa-1"),
        "wrong_issuer": enc(claims(iss="https://elsewhere.invalid"), rsa_key, "RS256", "rsa-1"),
        "wrong_audience": enc(claims(aud="another-service"), rsa_key, "RS256", "rsa-1"),
        # Signed by a key the set does not have, under a kid it does.
        "wrong_signature": enc(claims(), stranger, "RS256", "rsa-1"),
        "unknown_kid": enc(claims(), stranger, "RS256", "rsa-9"),
        "no_exp": jwt.encode({k: v for k, v in claims().items() if k != "exp"}, rsa_key,
                             algorithm="RS256", headers={"kid": "rsa-1"}),
        "alg_none": manual({"alg": "none", "typ": "JWT", "kid": "rsa-1"}, claims(), lambda m: ""),
        # The classic confusion: HMAC with the RSA public key (PEM) as the secret.
        "hs256_public_key": manual(
            {"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}, claims(),
            lambda m: b64(hmac.new(rsa_pub_pem, m, hashlib.sha256).digest()),
        ),
        # RS256 header on the P-256 key's kid: the key does not verify that algorithm.
        "rs256_on_ec_kid": enc(claims(), rsa_key, "RS256", "ec-1"),
    }
    print(json.dumps(t))


def verify(url: str, token: str, iss: str) -> None:
    client = jwt.PyJWKClient(url)
    key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["EdDSA"], issuer=iss,
                        audience="intent-delegation")
    print(json.dumps(claims))


def sign(key_pem: str, kid: str, claims: str) -> None:
    with open(key_pem, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    print(jwt.encode(json.loads(claims), key, algorithm="EdDSA", headers={"kid": kid}))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(*sys.argv[2:5])
    elif sys.argv[1] == "sign":
        sign(*sys.argv[2:5])
    else:
        verify(*sys.argv[2:5])
