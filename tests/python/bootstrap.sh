#!/bin/sh
# A provided.al2023-style bootstrap for a Python function: it runs AWS's Python runtime
# client with the handler Lambda names in _HANDLER, and does not exec, so the runtime runs
# as a child of this shell (the process tree the emulator must count as a whole).
# $1: the Python interpreter that has awslambdaric.
"$1" -m awslambdaric "$_HANDLER"
