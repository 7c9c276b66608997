#!/usr/bin/env python3
"""CONNECT load client and loopback sink for the egressd benchmarks.

usage: connect-load.py sink HOST PORT
       connect-load.py load PROXY_PORT TARGET [--auth USER:PASS]
                       [--concurrency N] [--seconds S]

load opens tunnels through the proxy at 127.0.0.1:PROXY_PORT as fast as
N concurrent asyncio clients can: connect, one CONNECT request, read the
answer head, close.  It prints one line "tunnels=T errors=E seconds=S
rate=R" (R: established tunnels per second).  sink accepts connections
and closes each on EOF.  Loopback only; bounded by --seconds.
"""
import asyncio
import base64
import sys
import time


async def sink(host, port):
    async def handle(reader, writer):
        try:
            while await reader.read(65536):
                pass
        finally:
            writer.close()
    srv = await asyncio.start_server(handle, host, port, backlog=1024)
    async with srv:
        await srv.serve_forever()


async def one(port, req):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(req)
        head = await reader.readuntil(b"\r\n\r\n")
        return head.startswith(b"HTTP/1.1 200 ")
    finally:
        writer.close()


async def load(port, target, auth, conc, seconds):
    req = b"CONNECT %s HTTP/1.1\r\nHost: %s\r\n" % (target, target)
    if auth:
        req += b"Proxy-Authorization: Basic %s\r\n" % base64.b64encode(auth)
    req += b"\r\n"
    ok = err = 0
    end = time.monotonic() + seconds

    async def worker():
        nonlocal ok, err
        while time.monotonic() < end:
            try:
                if await asyncio.wait_for(one(port, req), 10):
                    ok += 1
                else:
                    err += 1
            except (OSError, asyncio.TimeoutError,
                    asyncio.IncompleteReadError):
                err += 1
    start = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(conc)))
    took = time.monotonic() - start
    print("tunnels=%d errors=%d seconds=%.2f rate=%.1f" %
          (ok, err, took, ok / took))


def main(argv):
    if len(argv) == 4 and argv[1] == "sink":
        asyncio.run(sink(argv[2], int(argv[3])))
        return 0
    if len(argv) < 4 or argv[1] != "load":
        print(__doc__, file=sys.stderr)
        return 2
    port, target = int(argv[2]), argv[3].encode()
    opts = dict(zip(argv[4::2], argv[5::2]))
    auth = opts.get("--auth", "").encode("utf-8")
    asyncio.run(load(port, target, auth, int(opts.get("--concurrency", 16)),
                     float(opts.get("--seconds", 5))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
