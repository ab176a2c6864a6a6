from catalog import SERVICE
from catalog.bootstrap import bootstrap
from catalog.seed import seed
from portal_runtime.cli import main

main(SERVICE, "catalog", bootstrap, seed)
