"""tests/pyserve.py - the loopback HTTP server a test script's own handler runs in.

serve(Handler, portfile): a threaded http.server on 127.0.0.1 (a free port),
whose port is written to portfile atomically (lib.sh's wait_port reads it),
serving until killed. Test scripts that need a server nginx cannot be (one
that holds a body back, breaks a connection, answers a Range its own way)
write only their handler and call this.
"""
import http.server
import os
import socketserver


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def serve(handler, portfile):
    s = _Server(('127.0.0.1', 0), handler)
    with open(portfile + '.tmp', 'w') as f:
        f.write(str(s.server_address[1]))
    os.rename(portfile + '.tmp', portfile)
    s.serve_forever()
