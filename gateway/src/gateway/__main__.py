import os

from gateway import SERVICE
from gateway.bootstrap import bootstrap
from gateway.seed import seed
from portal_runtime.cli import main

# gunicorn answers over-long request lines itself, in HTML; the app refuses them as a problem.
os.environ.setdefault("GUNICORN_CMD_ARGS", "--limit-request-line 0")

main(SERVICE, "gateway", bootstrap, seed)
