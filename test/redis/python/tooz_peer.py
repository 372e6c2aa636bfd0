"""A Python tooz member driven by the interop tests (test/redis/interop.spec.ts).

One process serves a whole test file: it reads one JSON request per line on
stdin, {"id": n, "op": "...", ...}, and answers one JSON line on stdout,
{"id": n, "ok": value} or {"id": n, "error": "ExceptionName: message"}.
Capabilities travel as JSON with bytes tagged as {"$bytes": "<hex>"}; what
Python decoded is answered as its repr(), which shows the exact Python types.
"""
import json
import sys

from tooz import coordination

coordinators = {}
locks = {}
elected = {}
partitioners = {}


def untag(value):
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return bytes.fromhex(value["$bytes"])
        return {k: untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [untag(v) for v in value]
    return value


def text(value):
    return value.decode("utf8") if isinstance(value, bytes) else value


def lock_name(req):
    # tooz < 9 names a lock "%s_%s_lock" % (namespace_bytes, str(name)):
    # a bytes name is written as its repr, a str name as is.
    return req["name"].encode("utf8") if req.get("bytes") else req["name"]


def handle(req):
    op = req["op"]
    if op == "start":
        coord = coordination.get_coordinator(req["url"], req["member"].encode("utf8"))
        coord.start()
        coordinators[req["member"]] = coord
        return True
    coord = coordinators[req["member"]]
    group = req.get("group", "").encode("utf8")
    if op == "stop":
        coord.stop()
        del coordinators[req["member"]]
        return True
    if op == "heartbeat":
        return coord.heartbeat()
    if op == "join_group_create":
        coord.join_group_create(group, capabilities=untag(req.get("caps", b"")))
        return True
    if op == "leave_group":
        coord.leave_group(group).get()
        return True
    if op == "get_members":
        return sorted(text(m) for m in coord.get_members(group).get())
    if op == "capabilities_repr":
        return repr(coord.get_member_capabilities(group, req["other"].encode("utf8")).get())
    if op == "lock_acquire":
        lock = locks.setdefault((req["member"], req["name"], bool(req.get("bytes"))), coord.get_lock(lock_name(req)))
        return lock.acquire(blocking=False)
    if op == "lock_release":
        return locks[(req["member"], req["name"], bool(req.get("bytes")))].release()
    if op == "lock_key":
        return text(coord.get_lock(lock_name(req)).name)
    if op == "watch_elected":
        elected[(req["member"], req["group"])] = 0

        def on_elected(event, key=(req["member"], req["group"])):
            elected[key] += 1

        coord.watch_elected_as_leader(group, on_elected)
        return True
    if op == "run_watchers":
        coord.run_watchers()
        return {g: n for (m, g), n in elected.items() if m == req["member"]}
    if op == "join_partitioned_group":
        partitioners[(req["member"], req["group"])] = coord.join_partitioned_group(
            group, weight=req.get("weight", 1)
        )
        return True
    if op == "members_for_objects":
        p = partitioners[(req["member"], req["group"])]
        coord.run_watchers()
        return [sorted(text(m) for m in p.members_for_object(key)) for key in req["keys"]]
    raise ValueError("unknown op %s" % op)


for line in sys.stdin:
    req = json.loads(line)
    try:
        answer = {"id": req["id"], "ok": handle(req)}
    except Exception as error:  # answered to the test, which fails on it
        answer = {"id": req["id"], "error": "%s: %s" % (type(error).__name__, error)}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
