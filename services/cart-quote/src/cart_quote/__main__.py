from cart_quote import SERVICE
from cart_quote.bootstrap import bootstrap
from cart_quote.seed import seed
from portal_runtime.cli import main

main(SERVICE, "cart_quote", bootstrap, seed)
