"""With A2P_PAYLOAD_KEYS set, no customer field is readable in Temporal's database."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from infra.codec import new_key_spec
from a2p.progress import Phase
from infra.temporal_client import connect
from starter import registrations
from local_stack.devserver import start_dev_server
from local_stack.stack import free_port
from tests.factories import answer_otp, wait_phase
from worker import running_worker


def database_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))  # the file, its -wal and -shm


async def test_no_customer_data_in_the_temporal_database(tmp_path, settings, customer, control):
    db, port = tmp_path / "temporal.sqlite", free_port()
    env = await start_dev_server(port=port, db_file=str(db))
    try:
        encrypted = settings.model_copy(update={
            "temporal_address": f"127.0.0.1:{port}", "a2p_payload_keys": SecretStr(new_key_spec("k1"))})
        client = await connect(encrypted)
        request = customer.request()
        async with running_worker(client, encrypted, task_queue="pii"):
            started = await registrations.start_registration(client, encrypted, request, task_queue="pii")
            await wait_phase(client, started.workflow_id, Phase.OTP_VERIFICATION)
            await answer_otp(control, request.customer.mobile_number)
            final = await registrations.final_status(client, started.workflow_id)
        assert final.phase == Phase.COMPLETED  # the codec's client reads everything back
    finally:
        await env.shutdown()

    stored = database_bytes(db)
    c = request.customer
    assert request.isv_customer_id.encode() in stored  # the search really looks at the history
    for secret in (c.email, c.mobile_number, c.address.street, c.first_name + " " + c.last_name, c.brand_name):
        assert secret.encode() not in stored, f"{secret!r} readable in the Temporal database"
