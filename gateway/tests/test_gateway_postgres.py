"""The gateway on the real PostgreSQL: migrations, seed, and limits shared by several workers."""

import threading

import pytest
from gateway_testkit import DEMO, PASSWORD, TOKEN_SECRET, Gateway, all_services

from gateway.bootstrap import bootstrap, create_app
from gateway.config import GatewayConfig
from gateway.models import PortalUser
from gateway.seed import seed
from portal_contracts import demo
from portal_runtime.testing import postgres_database

pytestmark = pytest.mark.integration


def worker(database_url: str, clock, upstream) -> Gateway:
    """One gunicorn worker's worth of gateway: its own app and engine on the shared database."""
    config = GatewayConfig.from_env(
        "gateway",
        database_url=database_url,
        broker_url="memory://",
        token_secret=TOKEN_SECRET,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        login_failures_per_account=3,
    )
    service = bootstrap(config, clock=clock, service_urls=all_services(upstream.url))
    return Gateway(service, create_app(service))


@pytest.fixture
def database():
    with postgres_database("gateway") as url:
        yield url


def test_migrations_and_seed_run_on_postgresql_and_seed_twice_changes_nothing(
    database, clock, upstream
):
    gw = worker(database, clock, upstream)
    gw.service.migrate()
    seed(gw.service)
    seed(gw.service)
    with gw.service.sessions() as session:
        assert session.query(PortalUser).count() == 5
    assert gw.call("GET", "/me", DEMO).get_json()["reseller_id"] == demo.DEMO_RESELLER_ID
    gw.service.engine.dispose()


def test_two_workers_share_the_sign_in_limit_and_grants(database, clock, upstream):
    first, second = worker(database, clock, upstream), worker(database, clock, upstream)
    first.service.migrate()
    seed(first.service)
    for gw in (first, second, first):
        resp = gw.client.post("/api/v1/auth/token", json={"email": DEMO, "password": "wrong"})
        assert resp.status_code == 401
    resp = second.client.post("/api/v1/auth/token", json={"email": DEMO, "password": PASSWORD})
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) > 0

    other = demo.OTHER_RESELLER_USER
    entered = first.call(
        "POST",
        "/customer-access",
        other,
        json={"by": "customer_id", "value": demo.ACME_ID, "email": demo.ACME_CONTACT},
    )
    assert entered.status_code == 200
    assert second.call("GET", f"/customers/{demo.ACME_ID}/licenses", other).status_code == 200
    for gw in (first, second):
        gw.service.engine.dispose()


def test_parallel_wrong_passwords_get_no_more_tries_than_the_limit(database, clock, upstream):
    workers = [worker(database, clock, upstream) for _ in range(4)]
    workers[0].service.migrate()
    seed(workers[0].service)
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def guess(n: int) -> None:
        gw = workers[n % len(workers)]
        barrier.wait(timeout=20)
        resp = gw.client.post("/api/v1/auth/token", json={"email": DEMO, "password": f"x{n}"})
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # login_failures_per_account is 3 here: three passwords checked, every other guess refused.
    assert sorted(statuses) == [401] * 3 + [429] * 17
    for gw in workers:
        gw.service.engine.dispose()
