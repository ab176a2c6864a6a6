from gateway.models import Base
from portal_runtime.migrations import run_env

run_env(Base.metadata)
