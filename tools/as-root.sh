#!/bin/sh
# Run a command as root: directly in a root shell, else through sudo when
# it is installed, else say how. Used by the Makefile's run, test, bench
# and install steps, so that their commands work for both.
set -eu
if [ "$(id -u)" = 0 ]; then
	exec "$@"
fi
if command -v sudo >/dev/null 2>&1; then
	exec sudo -- "$@"
fi
echo "nfsguard: '$*' needs root: run make in a root shell, or install sudo" >&2
exit 1
