"""gunicorn's settings for production: ``gunicorn -c authsite/gunicorn.conf.py authsite.wsgi``.

Command-line options override these (authsite/testing.py binds its own port and logs).
Header limits here are the last line, not the first: the reverse proxy in front caps
header sizes before gunicorn sees them (docs/production.md, "Production environment").
"""

import multiprocessing
import os

wsgi_app = "authsite.wsgi:application"

# Sync workers: each request holds one. Argon2 makes a login cost about 100 MiB and
# tens of milliseconds of CPU, so beyond a few workers per core more only queue for
# the CPU and the memory; 2 * cores + 1 is gunicorn's advice, capped for that reason.
# WEB_CONCURRENCY (the Heroku/Render convention) decides when set.
MAX_WORKERS = 8
workers = int(
    os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, MAX_WORKERS))
)

# A request that takes this long is stuck (the database and Redis calls have their own,
# shorter timeouts): the worker is killed and replaced.
timeout = 30
graceful_timeout = 30
# Sync workers close the connection after each response and ignore this; with
# --worker-class gthread an idle keep-alive connection holds a thread, so keep it short.
keepalive = 5

# Header limits. A browser may hold many cookies for the host, and the refresh cookie
# itself is ~200 bytes: a Cookie header of 8 KB must reach Django, which answers a JSON
# 4xx, rather than stop at gunicorn's default 8190-byte limit with an HTML 431.
# The buffer gunicorn may allocate is limit_request_fields * limit_request_field_size,
# so fewer fields (browsers send about 15) keep it near 800 KB.
limit_request_field_size = 16 * 1024
limit_request_fields = 50
limit_request_line = 8190  # gunicorn's maximum: long query strings on the admin's lists

# Whatever Django writes to stdout/stderr (the console log handler: tracebacks of
# unhandled exceptions) lands in the error log, wherever --error-logfile points.
capture_output = True
accesslog = "-"
errorlog = "-"

# No runtime control socket (gunicornc can change the worker count): nothing here needs
# it, and several servers on one host would share its default path.
control_socket_disable = True

# forwarded_allow_ips stays at gunicorn's default (127.0.0.1, ::1): X-Forwarded-Proto
# and friends are believed only from a proxy on this host. Django reads the client's
# address through TRUSTED_PROXY_COUNT (tokens/caller.py), not through gunicorn.
