from billing import SERVICE
from billing.bootstrap import bootstrap
from billing.seed import seed
from portal_runtime.cli import main

main(SERVICE, "billing", bootstrap, seed)
