"""Python tooz (Debian's python3-tooz) on PostgreSQL, for the lock interop test.

    tooz_lock.py URL NAME try   -> prints "true"/"false" for acquire(blocking=False), releases
    tooz_lock.py URL NAME hold  -> acquires (blocking), prints "held", waits for a line on stdin,
                                   releases, prints "released"
"""
import sys

from tooz import coordination

url, name, mode = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
coordinator = coordination.get_coordinator(url, b"python-peer")
coordinator.start()
lock = coordinator.get_lock(name)
if mode == "try":
    acquired = lock.acquire(blocking=False)
    print("true" if acquired else "false", flush=True)
    if acquired:
        lock.release()
else:
    lock.acquire(blocking=True)
    print("held", flush=True)
    sys.stdin.readline()
    lock.release()
    print("released", flush=True)
coordinator.stop()
