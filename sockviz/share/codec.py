"""Events and snapshots as JSON: TEMPORARY until the stream's format (core) lands; then this delegates to it."""

from __future__ import annotations

import base64
from typing import Any

from sockviz.core import Call, Event, SocketSnapshot, step
from sockviz.core.kernel.tcp_info import KernelReading
from sockviz.core.model import events as kinds
from sockviz.core.model.prediction import Prediction
from sockviz.core.model.reasons import ErrorReport

_KINDS: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        kinds.StepCalled,
        kinds.StepBlocked,
        kinds.StepReturned,
        kinds.StepFailed,
        kinds.StepRefused,
        kinds.SocketAdded,
        kinds.BurstStarted,
        kinds.ListenerFailed,
    )
}


def _value(value: Any) -> Any:
    if isinstance(value, Call):
        fields = dict(vars(value))
        fields["step"] = value.step.id
        fields["prediction"] = None if value.prediction is None else dict(vars(value.prediction))
        return fields
    if isinstance(value, ErrorReport):
        return dict(vars(value))
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode()}
    if hasattr(value, "id") and hasattr(value, "action"):  # a Step
        return value.id
    return value


def encode_event(event: Event) -> dict:
    return {"kind": type(event).__name__, **{name: _value(value) for name, value in vars(event).items()}}


def _call(fields: dict) -> Call:
    prediction = fields.get("prediction")
    return Call(**{**fields, "step": step(fields["step"]), "prediction": prediction and Prediction(**prediction)})


def decode_event(record: dict) -> Event:
    record = dict(record)
    kind = _KINDS[record.pop("kind")]
    if "call" in record:
        record["call"] = _call(record["call"])
    if "step" in record:
        record["step"] = step(record["step"])
    if "error" in record and isinstance(record["error"], dict):
        record["error"] = ErrorReport(**record["error"])
    if isinstance(record.get("data"), dict):
        record["data"] = base64.b64decode(record["data"]["b64"])
    return kind(**record)


def encode_snapshot(snap: SocketSnapshot) -> dict:
    fields = dict(vars(snap))
    fields["kernel"] = None if snap.kernel is None else dict(vars(snap.kernel))
    return fields


def decode_snapshot(record: dict) -> SocketSnapshot:
    record = dict(record)
    kernel = record.get("kernel")
    record["kernel"] = None if kernel is None else KernelReading(**kernel)
    for name in ("laddr", "raddr"):
        if record.get(name) is not None:
            record[name] = tuple(record[name])
    return SocketSnapshot(**record)
