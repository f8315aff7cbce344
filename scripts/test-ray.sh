#!/bin/sh
# The Ray tests, in a network namespace of their own that has only loopback: there every Ray
# component binds 127.0.0.1 (outside one, Ray also listens on the machine's other address).
# The Docker socket is a file, so checker containers start as usual.
# Usage: scripts/test-ray.sh VENV_BIN [pytest args...]
set -eu
bin=$1
shift
exec unshare --net sh -c 'ip link set lo up && exec "$0" -q -m ray "$@"' "$bin/pytest" "$@" tests/integration/test_ray_executor.py
