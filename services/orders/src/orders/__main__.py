from orders import SERVICE
from orders.bootstrap import bootstrap
from orders.seed import seed
from portal_runtime.cli import main

main(SERVICE, "orders", bootstrap, seed)
