"""`skua -k parse`: good configs exit 0, broken ones print FILE:LINE."""

import os
import re

import pytest

from harness import conf_text, run_skua

GOOD_EXTRA = """\
# comment lines and blank lines count for line numbers

acl to_origin dstdomain .origin.test
acl slow_path urlpath_regex ^/slow
acl safe_port port 80 443 1025-65535
acl get_only method GET HEAD
acl any_url url_regex -i ^http://
acl regex_dom dstdom_regex \\.test$
acl net dst 127.0.0.0/8
acl mine localport 3128
acl plain proto HTTP
acl named myportname 127.0.0.1:3128
acl everyone all
via on
forwarded_for on
client_idle_pconn_timeout 2 minutes
server_idle_pconn_timeout 1 minute
client_lifetime 1 day
request_header_max_size 64 KB
request_body_max_size 1 MB
logformat mine %ts.%03tu %>a %rm %ru %>Hs
access_log stdio:{workdir}/mine.log mine
access_log stdio:{workdir}/json.log json
access_log stdio:{workdir}/common.log common
access_log stdio:{workdir}/combined.log combined
http_access deny !safe_port
http_access deny slow_path !get_only
"""


def good_conf(workdir, dns_port=53535):
    return conf_text(3128, workdir, dns_port, ssl_ports=(8443,),
                     extra=GOOD_EXTRA.format(workdir=workdir))


def check_parse(skua_bin, path):
    p = run_skua(skua_bin, "-k", "parse", "-f", path)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def test_parse_good_config(skua_bin, tmp_path):
    path = str(tmp_path / "good.conf")
    with open(path, "w") as f:
        f.write(good_conf(str(tmp_path)))
    rc, err = check_parse(skua_bin, path)
    assert rc == 0, "good config rejected:\n" + err


def test_parse_minimal_generated_config(skua_bin, tmp_path):
    path = str(tmp_path / "min.conf")
    with open(path, "w") as f:
        f.write(conf_text(3128, str(tmp_path), 53535))
    rc, err = check_parse(skua_bin, path)
    assert rc == 0, "generated test config rejected:\n" + err


BROKEN = [
    ("unknown_directive", "no_such_directive on"),
    ("bad_time_value", "read_timeout 2 fortnights"),
    ("bad_time_number", "connect_timeout soon"),
    ("bad_size_value", "request_body_max_size 1 XB"),
    ("undefined_acl", "http_access allow no_such_acl"),
    ("undefined_negated_acl", "http_access deny !no_such_acl_either"),
    ("bad_acl_type", "acl foo no_such_type bar"),
    ("bad_http_port_number", "http_port 127.0.0.1:99999"),
    ("bad_http_port_text", "http_port 127.0.0.1:notaport"),
    ("bad_http_port_addr", "http_port 327.0.0.1:3128"),
    ("bad_forwarded_for", "forwarded_for sometimes"),
    ("bad_via", "via maybe"),
    ("bad_access_verb", "http_access perhaps all"),
]


@pytest.mark.parametrize("name,line", BROKEN, ids=[b[0] for b in BROKEN])
def test_parse_broken_config(skua_bin, tmp_path, name, line):
    lines = good_conf(str(tmp_path)).splitlines()
    # Put the bad line in the middle, after comments and blank lines, so a
    # wrong line count shows.
    at = len(lines) // 2
    lines.insert(at, line)
    path = str(tmp_path / ("%s.conf" % name))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    rc, err = check_parse(skua_bin, path)
    assert rc == 1, "expected exit 1 for %r, got %d:\n%s" % (line, rc, err)
    want = re.compile(r"(^|\s)(%s|%s):%d: \S" % (
        re.escape(path), re.escape(os.path.basename(path)), at + 1),
        re.M)
    assert want.search(err), (
        "expected '%s:%d: reason' on stderr for %r, got:\n%s"
        % (path, at + 1, line, err))


def test_parse_missing_file(skua_bin, tmp_path):
    rc, err = check_parse(skua_bin, str(tmp_path / "absent.conf"))
    assert rc == 1, err
    assert "absent.conf" in err


def test_parse_error_in_first_line(skua_bin, tmp_path):
    path = str(tmp_path / "first.conf")
    with open(path, "w") as f:
        f.write("bogus_first_line 1\n" + good_conf(str(tmp_path)))
    rc, err = check_parse(skua_bin, path)
    assert rc == 1
    assert re.search(r"%s:1: \S" % re.escape(os.path.basename(path)), err), \
        err
