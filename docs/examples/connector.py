#!/usr/bin/env python3
"""A complete Steward connector in Python 3, standard library only.

It manages an in-memory "app" (seeded from the `accounts` setting) so it runs anywhere; replace
the APP functions with calls to your app's API. Protocol: docs/connector-protocol.md.
"""
import json
import os
import sys

PROTOCOL = (1, 0)
APP = {"accounts": {}, "roles": {"admin": "Admin", "member": "Member"}, "grants": {}}

def error(code, message, kind=None, retryable=False, outcome="notApplied"):
    e = {"code": code, "message": message}
    if kind:
        e["data"] = {"kind": kind, "retryable": retryable}
        if outcome:
            e["data"]["outcome"] = outcome
    return e

class Fail(Exception):
    def __init__(self, err):
        self.err = err

def need(params, *names):
    for n in names:
        if not isinstance(params.get(n), str) or not params[n]:
            raise Fail(error(-32602, f"params.{n}: required, a non-empty string", "invalidArgument"))

def initialize(p):
    offered = [tuple(int(x) for x in v.split(".")) for v in p.get("protocolVersions", [])
               if all(x.isdigit() for x in v.split("."))]
    same_major = [v for v in offered if v[0] == PROTOCOL[0]]
    if not same_major:
        raise Fail(error(-32000, f"incompatible protocol versions: the host offers "
                         f"{', '.join(p.get('protocolVersions', []))}; this connector speaks 1.0", "configuration"))
    chosen = min(max(same_major), PROTOCOL)
    for i, name in enumerate(p.get("settings", {}).get("accounts", [])):
        APP["accounts"][f"id{i}"] = {"id": f"id{i}", "userName": name, "email": name, "status": "active"}
    return {"protocolVersion": f"{chosen[0]}.{chosen[1]}",
            "connector": {"name": "python-example", "version": "1.0.0"},
            "capabilities": {"accounts": {"list": True, "get": True, "create": True, "disable": True, "enable": True},
                             "entitlementTypes": [{"type": "role", "cardinality": "single", "list": True,
                                                   "grant": True, "values": ["Admin", "Member"]}],
                             "grants": {"list": True}}}

def page(items, p):
    start = int(p.get("cursor") or 0)
    size = int(p.get("pageSize") or 100)
    end = start + size
    result = {"items": items[start:end]}
    if end < len(items):
        result["nextCursor"] = str(end)
    return result

def accounts_get(p):
    for a in APP["accounts"].values():
        if any(p.get(k) and p.get(k) == a.get(k) for k in ("id", "userName", "email")):
            return {"account": a}
    return {}

def accounts_create(p):
    need(p, "idempotencyKey")
    spec = p.get("account") or {}
    need(spec, "userName")
    for a in APP["accounts"].values():
        if a["userName"] == spec["userName"]:
            return {"status": "alreadyExists", "alreadyApplied": True, "account": a}
    new_id = f"id{len(APP['accounts'])}"
    APP["accounts"][new_id] = {"id": new_id, "userName": spec["userName"], "status": "active"}
    if spec.get("email"):
        APP["accounts"][new_id]["email"] = spec["email"]
    return {"status": "created", "alreadyApplied": False, "account": APP["accounts"][new_id]}

def set_status(status):
    def handler(p):
        need(p, "idempotencyKey", "id")
        account = APP["accounts"].get(p["id"])
        if account is None:
            raise Fail(error(-32000, f"no account {p['id']}", "notFound"))
        already = account["status"] == status
        account["status"] = status
        return {"alreadyApplied": already, "account": account}
    return handler

def grants_add(p):
    need(p, "idempotencyKey", "accountId", "type", "entitlementId")
    if p["entitlementId"] not in APP["roles"]:
        raise Fail(error(-32000, f"no role {p['entitlementId']}", "notFound"))
    already = APP["grants"].get(p["accountId"]) == p["entitlementId"]
    APP["grants"][p["accountId"]] = p["entitlementId"]
    return {"alreadyApplied": already}

METHODS = {
    "initialize": initialize,
    "shutdown": lambda p: {},
    "ping": lambda p: {},
    "accounts/list": lambda p: page(list(APP["accounts"].values()), p),
    "accounts/get": accounts_get,
    "accounts/create": accounts_create,
    "accounts/disable": set_status("disabled"),
    "accounts/enable": set_status("active"),
    "entitlements/list": lambda p: page([{"type": "role", "id": k, "name": v, "rank": 2 - i}
                                         for i, (k, v) in enumerate(APP["roles"].items())], p),
    "grants/list": lambda p: page([{"accountId": a, "type": "role", "entitlementId": r}
                                   for a, r in APP["grants"].items()], p),
    "grants/add": grants_add,
}

def answer(msg_id, result=None, err=None):
    out = {"jsonrpc": "2.0", "id": msg_id}
    out["error" if err else "result"] = err or result
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()

def main():
    if "STEWARD_CONNECTOR_PROTOCOL" not in os.environ and sys.stdin.isatty():
        sys.exit("This is a Steward connector; the steward host starts it. Try: steward connector check -- " + sys.argv[0])
    for line in sys.stdin:
        try:
            msg = json.loads(line)
        except ValueError as e:
            answer(None, err=error(-32700, f"invalid JSON: {e}"))
            continue
        if not isinstance(msg, dict) or not isinstance(msg.get("method"), str):
            answer(msg.get("id") if isinstance(msg, dict) else None, err=error(-32600, "invalid request"))
            continue
        if "id" not in msg:
            continue  # notifications (cancel) need no answer here: every request is quick
        handler = METHODS.get(msg["method"])
        if handler is None:
            answer(msg["id"], err=error(-32601, f"method {msg['method']} is not supported"))
            continue
        try:
            answer(msg["id"], handler(msg.get("params") or {}))
        except Fail as f:
            answer(msg["id"], err=f.err)
        except Exception as e:  # a bug here must not kill the stream
            print(f"internal error: {e!r}", file=sys.stderr)
            answer(msg["id"], err=error(-32000, "internal error", "internal"))

if __name__ == "__main__":
    main()
