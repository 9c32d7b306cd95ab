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
- {"environ": true}    answers the process environment, plus the handler name it was
                       started with (awslambdaric's argument: $_HANDLER under bootstrap.sh).
- {"hold_mb": N}       keeps N MB of memory alive for the life of the process and answers
                       its pid and its own peak resident memory (ru_maxrss, in kB).
- {"spin": true}       starts a thread that spins forever (work that leaks past /next) and
                       answers its pid.
- anything else        is answered as it came: JSON is decoded and encoded again by
                       awslambdaric; an event whose Content-Type is not application/json
                       arrives as raw bytes and is answered as those same bytes.
"""

import os
import resource
import sys
import threading

HELD = []


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
        if event.get("environ") is True:
            return {"environ": dict(os.environ), "argv": sys.argv}
        if "hold_mb" in event:
            block = bytearray(event["hold_mb"] * 1024 * 1024)
            # Touch every page so that it is resident.
            for i in range(0, len(block), 4096):
                block[i] = 1
            HELD.append(block)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            return {"pid": os.getpid(), "maxrss_kb": peak}
        if event.get("spin") is True:
            def spin():
                n = 0
                while True:
                    n += 1
            threading.Thread(target=spin, name="leaked-spin", daemon=True).start()
            return {"pid": os.getpid()}
        if event.get("context") is True:
            return {
                "requestId": context.aws_request_id,
                "remainingMs": context.get_remaining_time_in_millis(),
                "invokedFunctionArn": context.invoked_function_arn,
                "functionName": context.function_name,
                "memoryLimitInMb": context.memory_limit_in_mb,
            }
    return event
