from notifications import SERVICE
from notifications.bootstrap import bootstrap
from notifications.seed import seed
from portal_runtime.cli import main

main(SERVICE, "notifications", bootstrap, seed)
