#!/usr/bin/env bash
# Run redis-py's test suite against rustis (or redis-server) and check the
# ratchet list. Usage and options: tests/compat/README.md, or --help.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "${PYTHON:-python3}" "$here/redis_py_compat.py" "$@"
