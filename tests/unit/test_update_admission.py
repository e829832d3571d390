"""How the client reads Temporal's answers: which make it send an Update again (only "workflow not
ready": the workflow task that was to take it failed, nothing was applied), and which mean a call
ran out of time (then the service says whether a worker runs) rather than Temporal being down."""

from google.protobuf.any_pb2 import Any as AnyProto
from temporalio.api.common.v1 import GrpcStatus
from temporalio.api.errordetails.v1 import WorkflowNotReadyFailure, NotFoundFailure
from temporalio.service import RPCError, RPCStatusCode

from starter.registrations import _not_ready, _timed_out


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


def test_a_call_out_of_time_is_told_apart_from_temporal_down():
    # The SDK's core reports a call's own rpc_timeout as CANCELLED "Timeout expired".
    assert _timed_out(RPCError("Timeout expired", RPCStatusCode.CANCELLED, b""))
    assert _timed_out(RPCError("context deadline exceeded", RPCStatusCode.DEADLINE_EXCEEDED, b""))
    assert not _timed_out(RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b""))
