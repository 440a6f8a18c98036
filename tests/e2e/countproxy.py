#!/usr/bin/env python3
"""A logging HTTP reverse proxy for the end-to-end harness.

    countproxy.py LISTEN_PORT UPSTREAM_URL LOGFILE [PORTFILE]

LISTEN_PORT 0 picks a free port; PORTFILE then receives the port it got.

The add-on talks to the Manager through this proxy, so the harness can count
exactly which requests it made (for example how many Shaman file uploads a
submission needed) without depending on the Manager's own logging. Each
request appends one line "METHOD PATH STATUS REQUEST_BYTES" to LOGFILE.
Bodies are buffered whole: the harness only moves small files.
"""
import http.client
import os
import http.server
import sys
import threading
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
              "transfer-encoding", "upgrade", "content-length"}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    upstream = None  # (host, port), set in main()
    logfile = None
    lock = threading.Lock()

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()  # CRLF after each chunk
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _forward(self):
        body = self._read_body()
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP_BY_HOP}
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(*self.upstream, timeout=300)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            status = resp.status
            self.send_response_only(status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except OSError as exc:
            status = 502
            msg = ('{"code":502,"message":"proxy: %s"}' % exc).encode()
            self.send_response_only(502)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
        finally:
            conn.close()
        with self.lock:
            with open(self.logfile, "a") as log:
                log.write("%s %s %d %d\n" % (self.command, self.path, status,
                                             len(body)))

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward
    do_OPTIONS = _forward

    def log_message(self, fmt, *args):
        pass  # the LOGFILE line is the log


def main():
    port, upstream, logfile = sys.argv[1:4]
    portfile = sys.argv[4] if len(sys.argv) > 4 else None
    url = urllib.parse.urlsplit(upstream)
    Proxy.upstream = (url.hostname, url.port or 80)
    Proxy.logfile = logfile
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Proxy)
    server.daemon_threads = True
    if portfile:
        with open(portfile + ".tmp", "w") as out:
            out.write("%d\n" % server.server_address[1])
        os.rename(portfile + ".tmp", portfile)  # readers never see half
    server.serve_forever()


if __name__ == "__main__":
    main()
