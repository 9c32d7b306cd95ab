"""A tiny handler for AWS's Python runtime interface client (awslambdaric), used by
tests/integration/python.rs to drive Coda's emulator with a Runtime API client nobody here
wrote. Run as the emulator runs it, with this folder on PYTHONPATH:

    python -m awslambdaric echo.handler

What it does with the event:

- {"fail": "message"}  raises EchoFailure("message"): awslambdaric posts it to /error.
- {"context": true}    answers what the handler saw in its context: request id, remaining
                       time, invoked ARN, function name, memory size.
- {"exit": N}          ends the process at once with status N (no answer is posted).
- {"hang": true}       blocks until the emulator kills the process at the deadline.
- anything else        is answered as it came: JSON is decoded and encoded again by
                       awslambdaric; an event whose Content-Type is not application/json
                       arrives as raw bytes and is answered as those same bytes.
"""

import os
import threading


class EchoFailure(Exception):
    """The error the handler raises when asked to fail."""


def handler(event, context):
    if isinstance(event, dict):
        if "fail" in event:
            raise EchoFailure(event["fail"])
        if "exit" in event:
            os._exit(event["exit"])
        if event.get("hang") is True:
            threading.Event().wait()
        if event.get("context") is True:
            return {
                "requestId": context.aws_request_id,
                "remainingMs": context.get_remaining_time_in_millis(),
                "invokedFunctionArn": context.invoked_function_arn,
                "functionName": context.function_name,
                "memoryLimitInMb": context.memory_limit_in_mb,
            }
    return event
