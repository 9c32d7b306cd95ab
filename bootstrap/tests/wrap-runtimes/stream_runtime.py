"""A small custom runtime that streams its answers (docs/runtime-api.md §5), for
bootstrap/tests/wrap.rs: raw HTTP/1.1 on sockets, as a runtime in any language may speak it,
so that `coda wrap` is tested against chunked bodies and trailers it did not write itself.

For each event {"chunks": ["…", …], "gate": "<fifo path>", "error": "<error type>"}:
- the answer is a streamed POST /response (Transfer-Encoding: chunked, announced trailers)
  on a connection of its own, one HTTP chunk per item of "chunks";
- before each chunk after the first it reads one line from the FIFO "gate", so the test
  decides when the next chunk is produced (and can see the previous one arrive first);
- with "error", the stream ends with the error trailers Lambda-Runtime-Function-Error-Type
  and Lambda-Runtime-Function-Error-Body (base64 of the error JSON).
It polls /next on one kept connection and exits when /next answers anything but 200.
"""

import base64
import json
import os
import socket
import sys

HOST, PORT = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)


def connect():
    conn = socket.create_connection((HOST, int(PORT)))
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return conn


def read_response(reader):
    status = reader.readline()
    if not status:
        sys.exit(1)
    headers = {}
    while True:
        line = reader.readline()
        if line in (b"\r\n", b""):
            break
        name, value = line.decode().split(":", 1)
        headers[name.strip().lower()] = value.strip()
    body = reader.read(int(headers.get("content-length", "0")))
    return int(status.split()[1]), headers, body


def main():
    poll = connect()
    replies = poll.makefile("rb")
    while True:
        poll.sendall(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: runtime\r\n\r\n")
        status, headers, body = read_response(replies)
        if status != 200:
            sys.exit(1)
        request_id = headers["lambda-runtime-aws-request-id"]
        event = json.loads(body)
        stream = connect()
        stream.sendall(
            (
                f"POST /2018-06-01/runtime/invocation/{request_id}/response HTTP/1.1\r\n"
                "Host: runtime\r\n"
                "Content-Type: text/plain\r\n"
                "Lambda-Runtime-Function-Response-Mode: streaming\r\n"
                "Transfer-Encoding: chunked\r\n"
                "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n"
                "\r\n"
            ).encode()
        )
        gate = None
        for i, chunk in enumerate(event["chunks"]):
            if i > 0:
                if gate is None:
                    gate = open(event["gate"], "rb")
                gate.readline()
            data = chunk.encode()
            stream.sendall(b"%x\r\n%s\r\n" % (len(data), data))
        if gate is not None:
            gate.close()
        tail = b"0\r\n"
        if "error" in event:
            error = json.dumps({"errorType": event["error"], "errorMessage": "it broke mid-stream"})
            tail += b"Lambda-Runtime-Function-Error-Type: %s\r\n" % event["error"].encode()
            tail += b"Lambda-Runtime-Function-Error-Body: %s\r\n" % base64.b64encode(error.encode())
        stream.sendall(tail + b"\r\n")
        read_response(stream.makefile("rb"))
        stream.close()


main()
