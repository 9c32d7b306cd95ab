#!/bin/sh
# The AWS_LAMBDA_EXEC_WRAPPER script of the layer `coda package --layer` writes (bin/coda and
# this file): set AWS_LAMBDA_EXEC_WRAPPER=/opt/entry.sh on the function. Lambda's managed
# runtimes then start this script with their own command as its arguments; it runs that
# command under `coda wrap`, which runs AWS_LAMBDA_POST_RUNNER_COMMAND after each answer
# (the variables of aws-lambda-post-runner, which installs its wrapper at the same path).
case "$0" in
  */*) layer=${0%/*} ;;
  *) layer=. ;;
esac
exec "$layer/bin/coda" wrap -- "$@"
