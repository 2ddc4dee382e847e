# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stdlib HTTP server on a free 127.0.0.1 port, in a thread, for tests that need a real peer."""
from __future__ import annotations

import http.server
import sys
import threading
from contextlib import contextmanager
from typing import Iterator, Type


class _QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # a client that gave up (a timeout or size-cap test) is expected
        super().handle_error(request, client_address)


@contextmanager
def serving(handler: Type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` until the block ends; yields the base URL (http://127.0.0.1:PORT)."""
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
