"""Sign in with scimd: a Flask app that signs members in through scimd, an OpenID Provider, with Authlib.

Authorization code flow with PKCE (S256), `state` and `nonce`; the ID token is verified against scimd's
`jwks_uri` (RS256), its issuer, audience, expiry, nonce and `at_hash`. The session ends at logout, and as soon
as scimd says the member's access token is no longer active (the org's IdP deprovisioned them).
"""

import os
import secrets
import sys

import requests
from authlib.integrations.flask_client import OAuth, OAuthError
from flask import Flask, redirect, render_template_string, request, session, url_for

SCIMD_URL = os.environ.get("SCIMD_URL", "http://127.0.0.1:8080").rstrip("/")
CLIENT_ID = os.environ.get("SCIMD_CLIENT_ID") or sys.exit("Set SCIMD_CLIENT_ID and SCIMD_CLIENT_SECRET.")
CLIENT_SECRET = os.environ.get("SCIMD_CLIENT_SECRET") or sys.exit("Set SCIMD_CLIENT_SECRET.")

app = Flask(__name__)
app.secret_key = os.environ.get("FLASK_SECRET_KEY") or secrets.token_hex(32)  # signs Flask's session cookie
app.config["SESSION_COOKIE_SAMESITE"] = "Lax"  # and keeps other sites from posting /logout

oauth = OAuth(app)
oauth.register(
    "scimd",
    client_id=CLIENT_ID,
    client_secret=CLIENT_SECRET,
    server_metadata_url=f"{SCIMD_URL}/.well-known/openid-configuration",
    client_kwargs={"scope": "openid email", "code_challenge_method": "S256"},
)
# Accept RS256 ID tokens only (scimd's default for a new client), whatever else the discovery document lists.
oauth.scimd.load_server_metadata()["id_token_signing_alg_values_supported"] = ["RS256"]

PAGE = """<!doctype html>
<title>Sign in with scimd</title>
{% if error %}<p>scimd did not sign you in: {{ error }}</p>{% endif %}
{% if user %}
  <p>Signed in as <strong>{{ user.email }}</strong> ({{ user.name or "no name" }}), member {{ user.sub }}
  of org {{ user.org_id }}.</p>
  <form method="post" action="{{ url_for('logout') }}"><button>Sign out</button></form>
{% else %}
  <form action="{{ url_for('login') }}">
    <label>Work e-mail <input name="email" type="email" required></label>
    <button>Sign in with scimd</button>
  </form>
{% endif %}
"""


def signed_in_user(claims: dict) -> dict:
    """What the app keeps of the verified ID token. The account key is (iss, sub), never the e-mail: scimd
    verifies no mailbox (`email_verified` is false), so `email` and `name` are for display only."""
    return {key: claims.get(key) for key in ("iss", "sub", "org_id", "email", "name")}


@app.before_request
def still_a_member():
    """Ends the session once scimd's introspection says the access token is no longer active."""
    token = session.get("access_token")
    if token:
        answer = requests.post(
            oauth.scimd.load_server_metadata()["introspection_endpoint"],
            data={"token": token},
            auth=(CLIENT_ID, CLIENT_SECRET),
            timeout=10,
        )
        if answer.status_code != 200 or not answer.json().get("active"):
            session.clear()


@app.get("/")
def home():
    return render_template_string(PAGE, user=session.get("user"))


@app.get("/login")
def login():
    # The member's e-mail is the login_hint that tells scimd which org signs them in (`org=ORG_ID` works too).
    redirect_uri = url_for("callback", _external=True)
    return oauth.scimd.authorize_redirect(redirect_uri, login_hint=request.args.get("email", ""))


@app.get("/auth/callback")
def callback():
    try:
        # Checks `state`, redeems the code with the PKCE verifier, and verifies the ID token.
        token = oauth.scimd.authorize_access_token()
    except OAuthError as err:  # e.g. access_denied: scimd refused the member (not provisioned, deactivated)
        return render_template_string(PAGE, error=err.error, user=None), 403
    session["user"] = signed_in_user(token["userinfo"])
    session["access_token"] = token["access_token"]
    return redirect(url_for("home"))


@app.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("home"))


if __name__ == "__main__":
    app.run(port=int(os.environ.get("PORT", "5000")))
