#!/usr/bin/python3
# browser_test.py -- tlsrpt-web in a real browser: headless Chromium from
# Debian driven by Selenium (python3-selenium, chromium-driver), the real
# daemon, the real `tlsrpt import`, the PostgreSQL of tests/with-pg.sh.
#
# Copyright (c) 2026 The tlsrpt authors.  ISC licence, see LICENSE.
#
#   tests/web/browser_test.py            the test (make check-browser)
#   tests/web/browser_test.py --corpus DIR
#                                        the README's screenshots, made
#                                        from the corpus of real reports
#
# The test loads the overview, follows the links to a domain and to a
# report, changes the window, reads the chart's figures from the SVG
# <title>s and compares them with the fixture's, worked out here; asserts
# that no request leaves the server, that the console stays clean, and
# that a hostile organization-name and policy string render as text (no
# alert, the text visible, no element made of them), as does a stored
# live check (tlsrpt check --store) with markup in its finding.
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
TLSRPT = os.environ.get("TLSRPT_BIN", os.path.join(TOP, "bin/tlsrpt"))
WEB = os.environ.get("TLSRPT_WEB_BIN", os.path.join(TOP, "bin/tlsrpt-web"))
DB = os.environ["TLSRPT_DB"]

HOSTILE_ORG = "<script>alert(1)</script>"
HOSTILE_MX = '"><svg onload=alert(1)>'

# (day, organization, successful, failed, details [(type, mx, n)])
FIXTURE = [
    ("2026-01-05", "Reporter One", 100, 0, []),
    ("2026-01-06", "Reporter One", 90, 10,
     [("starttls-not-supported", "mx1.a.example", 10)]),
    ("2026-01-07", HOSTILE_ORG, 50, 50,
     [("certificate-expired", "mx2.a.example", 30),
      ("starttls-not-supported", "mx1.a.example", 20)]),
]

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("browser_test: FAIL: " + what, file=sys.stderr)


def report_json(i, day, org, ok, failed, details):
    return json.dumps({
        "organization-name": org,
        "date-range": {"start-datetime": day + "T00:00:00Z",
                       "end-datetime": day + "T23:59:59Z"},
        "contact-info": "tlsrpt@example.net",
        "report-id": "browser-%d" % i,
        "policies": [{
            "policy": {"policy-type": "sts", "policy-domain": "a.example",
                       "policy-string": ["version: STSv1", "mode: testing",
                                         "mx: " + HOSTILE_MX,
                                         "max_age: 86400"],
                       "mx-host": ["mx1.a.example"]},
            "summary": {"total-successful-session-count": ok,
                        "total-failure-session-count": failed},
            "failure-details": [{"result-type": t,
                                 "receiving-mx-hostname": mx,
                                 "failed-session-count": n}
                                for (t, mx, n) in details]}]})


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_db(name, tmp):
    subprocess.run(["psql", "-qX", DB, "-c", "SET client_min_messages = "
                    "warning", "-c", "DROP DATABASE IF EXISTS %s" % name],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["psql", "-qX", DB, "-c", "CREATE DATABASE %s" % name],
                   check=True, stdout=subprocess.DEVNULL)
    conninfo = DB + " dbname=" + name
    subprocess.run([TLSRPT, "migrate", "--db", conninfo], check=True,
                   stdout=subprocess.DEVNULL)
    return conninfo


LIVE_AT = "2026-01-07T06:00:00Z"
LIVE_WHAT = ("MX <img src=x onerror=alert(1)>.a.example: the certificate "
             "names other.example")


def store_live_check(conninfo):
    """A check of a.example as `tlsrpt check --store` stores one
    (schema/010_live_check.sql), with markup in a finding."""
    obj = {"domain": "a.example", "result": "critical", "sts_id": None,
           "policy": None, "rua": [], "mx": [],
           "findings": [{"severity": "critical",
                         "code": "mx-certificate-name", "what": LIVE_WHAT,
                         "rfc": "RFC 6125", "next": HOSTILE_ORG}]}
    lit = json.dumps(obj).replace("'", "''")
    subprocess.run(["psql", "-qX", conninfo, "-v", "ON_ERROR_STOP=1", "-c",
                    "INSERT INTO tlsrpt.live_check (domain, checked_at, "
                    "result, critical, warnings, report_days, check_json) "
                    "VALUES ('a.example', '%s', 'critical', 1, 0, 14, '%s')"
                    % (LIVE_AT, lit)], check=True, stdout=subprocess.DEVNULL)


def start_web(conninfo, log):
    port = free_port()
    p = subprocess.Popen([WEB, "--listen", "127.0.0.1:%d" % port, "--db",
                          conninfo], stdout=log, stderr=log)
    base = "http://127.0.0.1:%d" % port
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/style.css", timeout=2)
            return p, base
        except OSError:
            if p.poll() is not None:
                break
            time.sleep(0.1)
    raise SystemExit("tlsrpt-web does not answer; see " + log.name)


def browser():
    o = webdriver.ChromeOptions()
    o.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
              "--disable-dev-shm-usage", "--window-size=1280,1000",
              "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-default-apps",
              "--disable-sync"):
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL",
                                           "performance": "ALL"})
    svc = Service(executable_path="/usr/bin/chromedriver")
    return webdriver.Chrome(options=o, service=svc)


def no_alert(d, where):
    try:
        a = d.switch_to.alert
        check(False, "%s: an alert ran: %r" % (where, a.text))
        a.dismiss()
    except NoAlertPresentException:
        pass


def requests_seen(d):
    urls = []
    for e in d.get_log("performance"):
        m = json.loads(e["message"])["message"]
        if m.get("method") == "Network.requestWillBeSent":
            urls.append(m["params"]["request"]["url"])
    return urls


def test(tmp, shots):
    conninfo = make_db("web_browser", tmp)
    for i, (day, org, ok, failed, det) in enumerate(FIXTURE):
        with open(os.path.join(tmp, "r%d.json" % i), "w") as f:
            f.write(report_json(i, day, org, ok, failed, det))
    subprocess.run([TLSRPT, "import", "--db", conninfo] +
                   [os.path.join(tmp, "r%d.json" % i)
                    for i in range(len(FIXTURE))], check=True,
                   stdout=subprocess.DEVNULL)
    store_live_check(conninfo)
    log = open(os.path.join(tmp, "web.log"), "w")
    p, base = start_web(conninfo, log)
    d = None
    try:
        d = browser()
        d.get(base + "/?since=2026-01-05&until=2026-01-07")
        no_alert(d, "overview")
        row = d.find_element(By.LINK_TEXT, "a.example")
        check(d.title == "Overview - tlsrpt", "overview title %r" % d.title)
        # the overview's figures: 3 reports, 300 sessions, 20.00%
        cells = [c.text for c in row.find_element(
            By.XPATH, "./ancestor::tr").find_elements(By.TAG_NAME, "td")]
        sessions = sum(ok + failed for (_, _, ok, failed, _) in FIXTURE)
        failed_all = sum(failed for (_, _, _, failed, _) in FIXTURE)
        check(cells[2] == str(len(FIXTURE)), "reports cell %r" % cells[2])
        check(cells[4] == str(sessions), "sessions cell %r" % cells[4])
        check(cells[5] == "%.2f%%" % (100.0 * failed_all / sessions),
              "failure rate cell %r" % cells[5])
        # every fixture report's policy is in mode testing
        check(cells[7] == "testing", "MTA-STS mode cell %r" % cells[7])
        d.save_screenshot(os.path.join(shots, "overview.png"))

        row.click()
        no_alert(d, "domain")
        titles = [t.get_attribute("textContent") for t in
                  d.find_elements(By.CSS_SELECTOR, "#sessions g.day > title")]
        want = ["%s: %d successful, %d failed, %.2f%% failed" %
                (day, ok, failed, 100.0 * failed / (ok + failed))
                for (day, _, ok, failed, _) in FIXTURE]
        check(titles == want, "domain chart titles %r, want %r" %
              (titles, want))
        # by result type: starttls-not-supported on 01-07 is 20
        rts = [t.get_attribute("textContent") for t in
               d.find_elements(By.CSS_SELECTOR, "#failures rect > title")]
        check("2026-01-07 starttls-not-supported: 20" in rts and
              "2026-01-07 certificate-expired: 30" in rts and
              "2026-01-06 starttls-not-supported: 10" in rts,
              "result type titles %r" % rts)
        # the stored live check: its markup is text, nothing runs
        live = d.find_element(By.ID, "live-check").text
        check(live.startswith("Checked " + LIVE_AT) and
              ": critical, 1 critical, 0 warnings;" in live,
              "live check time and verdict %r" % live)
        cells = [c.text for c in d.find_elements(
            By.CSS_SELECTOR, "#live-findings td")]
        check(cells == ["critical", "mx-certificate-name", LIVE_WHAT,
                        "RFC 6125", HOSTILE_ORG],
              "live check finding cells %r" % cells)
        check(d.find_elements(By.CSS_SELECTOR, "#live-findings img, "
                              "#live-findings script") == [] and
              d.execute_script("return document.scripts.length") == 0,
              "markup from the live check became elements")
        no_alert(d, "domain with its live check")
        d.save_screenshot(os.path.join(shots, "domain.png"))

        # another window: the last two days only
        f = d.find_element(By.CSS_SELECTOR, "main form")
        s = f.find_element(By.NAME, "since")
        s.clear()
        s.send_keys("2026-01-06")
        f.find_element(By.TAG_NAME, "button").click()
        titles = [t.get_attribute("textContent") for t in
                  d.find_elements(By.CSS_SELECTOR, "#sessions g.day > title")]
        check(titles == want[1:], "two-day window titles %r" % titles)

        # the hostile report, by its link (its text is the org name)
        d.find_element(By.LINK_TEXT, HOSTILE_ORG).click()
        no_alert(d, "report")
        check(d.find_element(By.ID, "org").text == HOSTILE_ORG,
              "organization-name not shown as text")
        pol = d.find_element(By.CSS_SELECTOR, "pre.policy")
        check(HOSTILE_MX in pol.text, "policy string not shown as text: %r"
              % pol.text)
        check(d.find_elements(By.CSS_SELECTOR, "pre.policy svg, main script")
              == [], "markup from the report became elements")
        check(d.execute_script("return document.scripts.length") == 0,
              "a script element on the report page")
        d.save_screenshot(os.path.join(shots, "report.png"))

        logs = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
        check(logs == [], "console errors: %r" % logs)
        urls = requests_seen(d)
        outside = [u for u in urls if not u.startswith(base + "/")]
        check(urls != [] and outside == [], "requests outside the server: %r"
              % outside)
    finally:
        if d is not None:
            d.quit()
        p.send_signal(signal.SIGTERM)
        check(p.wait(timeout=20) == 0, "tlsrpt-web exit status")
        log.close()


def corpus(tmp, src, shots):
    conninfo = make_db("web_corpus", tmp)
    files = sorted(os.path.join(src, f) for f in os.listdir(src)
                   if not f.endswith((".md", ".txt")))
    subprocess.run([TLSRPT, "import", "--db", conninfo] + files,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = open(os.path.join(tmp, "web.log"), "w")
    p, base = start_web(conninfo, log)
    win = "since=2025-01-01&until=2026-01-31"
    d = None
    try:
        d = browser()
        d.get(base + "/?sort=sessions&" + win)
        d.save_screenshot(os.path.join(shots, "overview.png"))
        ov = json.load(urllib.request.urlopen(base + "/api/overview?" + win))
        dom = max(ov["domains"], key=lambda x: (x["failed"], x["sessions"]))
        d.get(base + "/domain/" + dom["domain"] + "?" + win)
        d.save_screenshot(os.path.join(shots, "domain.png"))
        d.find_element(By.CSS_SELECTOR, "#reports a").click()
        d.save_screenshot(os.path.join(shots, "report.png"))
    finally:
        if d is not None:
            d.quit()
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=20)
        log.close()


def main():
    tmp = tempfile.mkdtemp(prefix="tlsrpt-browser.")
    try:
        if len(sys.argv) == 3 and sys.argv[1] == "--corpus":
            shots = os.path.join(TOP, "doc", "screenshots")
            os.makedirs(shots, exist_ok=True)
            corpus(tmp, sys.argv[2], shots)
            print("browser_test: screenshots in " + shots)
            return 0
        test(tmp, tmp)
    finally:
        if not os.environ.get("TLSRPT_TEST_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("browser_test: %d failure(s)" % len(failures), file=sys.stderr)
        return 1
    print("browser_test: overview, domain and report pages as expected in "
          "Chromium")
    return 0


if __name__ == "__main__":
    sys.exit(main())
