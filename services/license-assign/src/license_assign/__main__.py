from license_assign import SERVICE
from license_assign.bootstrap import bootstrap
from license_assign.seed import seed
from portal_runtime.cli import main

main(SERVICE, "license_assign", bootstrap, seed)
