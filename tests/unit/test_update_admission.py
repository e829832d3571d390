"""Which Temporal answers make the client send an Update again: only "workflow not ready" (the
workflow task that was to take it failed, nothing was applied), never a refusal or other error."""

from google.protobuf.any_pb2 import Any as AnyProto
from temporalio.api.common.v1 import GrpcStatus
from temporalio.api.errordetails.v1 import WorkflowNotReadyFailure, NotFoundFailure
from temporalio.service import RPCError, RPCStatusCode

from starter.registrations import _not_ready


def rpc_error(message: str, detail) -> RPCError:
    packed = AnyProto()
    packed.Pack(detail)
    status = GrpcStatus(code=RPCStatusCode.UNAVAILABLE.value, message=message, details=[packed])
    return RPCError(message, RPCStatusCode.UNAVAILABLE, status.SerializeToString())


def test_a_failed_workflow_task_is_retried_by_its_detail_not_its_wording():
    assert _not_ready(rpc_error("anything at all", WorkflowNotReadyFailure()))


def test_other_errors_are_not_retried():
    assert not _not_ready(rpc_error("workflow not found", NotFoundFailure()))
    assert not _not_ready(RPCError("permission denied", RPCStatusCode.PERMISSION_DENIED, b""))
