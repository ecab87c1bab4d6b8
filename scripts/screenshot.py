"""Take a screenshot of a page of a local Odoo as a given user.

usage: screenshot.py URL DATABASE LOGIN PASSWORD OUTPUT.png [SELECTOR [SCRIPT]]

Logs in through Odoo's JSON-RPC, hands the session cookie to a headless
Chromium driven over the DevTools protocol, opens URL, waits until SELECTOR
(default: the web client's main view) is on the page, runs SCRIPT (a
JavaScript expression, e.g. a click on a tab) if given, and saves a PNG.
Only loopback addresses are accepted: this is for the project's own server.
"""

import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

import websocket

DEBUG_PORT = 9317
WIDTH, HEIGHT = 1440, 900


def odoo_session(base_url, database, login, password):
    """Return the session id of ``login`` on the Odoo at ``base_url``."""
    payload = {
        "jsonrpc": "2.0",
        "params": {"db": database, "login": login, "password": password},
    }
    response = _post(base_url + "/web/session/authenticate", payload)
    for header in response["cookies"]:
        name, _sep, rest = header.partition("=")
        if name == "session_id":
            return rest.split(";", 1)[0]
    raise SystemExit(f"login failed for {login}")


def _post(url, payload):
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return {
            "body": response.read().decode(),
            "cookies": response.headers.get_all("Set-Cookie") or [],
        }


class DevTools:
    def __init__(self, ws_url):
        self.socket = websocket.create_connection(ws_url, timeout=30)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(
            json.dumps({"id": self.next_id, "method": method, "params": params})
        )
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def wait_for(self, selector, timeout=60):
        deadline = time.monotonic() + timeout
        expression = f"!!document.querySelector({json.dumps(selector)})"
        while time.monotonic() < deadline:
            found = self.call("Runtime.evaluate", expression=expression)
            if found.get("result", {}).get("value"):
                return
            time.sleep(0.25)
        raise SystemExit(f"{selector} did not appear within {timeout}s")


def main(argv):
    url, database, login, password, output = argv[:5]
    selector = argv[5] if len(argv) > 5 else ".o_action_manager .o_view_controller"
    script = argv[6] if len(argv) > 6 else None
    parsed = urllib.parse.urlsplit(url)
    if parsed.hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("only a local Odoo can be photographed")
    base_url = f"{parsed.scheme}://{parsed.netloc}"
    session_id = odoo_session(base_url, database, login, password)

    profile = tempfile.mkdtemp(prefix="om-chromium-")
    browser = subprocess.Popen(
        [
            shutil.which("chromium") or "/usr/bin/chromium",
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--remote-debugging-port={DEBUG_PORT}",
            "--remote-debugging-address=127.0.0.1",
            f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{HEIGHT}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        targets = _wait_for_targets()
        page = next(t for t in targets if t["type"] == "page")
        tools = DevTools(page["webSocketDebuggerUrl"])
        tools.call(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )
        tools.call("Network.enable")
        tools.call(
            "Network.setCookie",
            name="session_id",
            value=session_id,
            domain=parsed.hostname,
            path="/",
        )
        tools.call("Page.enable")
        tools.call("Page.navigate", url=url)
        tools.wait_for(selector)
        if script:
            tools.call("Runtime.evaluate", expression=script)
        # Let fonts and avatars settle after the view is there.
        time.sleep(1.5)
        shot = tools.call("Page.captureScreenshot", format="png")
        with open(output, "wb") as handle:
            handle.write(base64.b64decode(shot["data"]))
    finally:
        browser.terminate()
        browser.wait(timeout=10)
        shutil.rmtree(profile, ignore_errors=True)
    return 0


def _wait_for_targets(timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{DEBUG_PORT}/json/list", timeout=2
            ) as response:
                return json.loads(response.read())
        except OSError:
            time.sleep(0.2)
    raise SystemExit("Chromium did not start")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
