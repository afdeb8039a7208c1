"""The shell the docker sandbox runs inside its containers: the lifelines that end a container
when its creator lets go, the wrapper every command runs under, and the killer that ends a
command's whole process tree from another exec. POSIX sh only (dash, busybox ash and bash
run it), so any image with /bin/sh will do.

The scripts are files of the sandbox container (`script_files`, root's, read-only to the
commands). A command runs as `sh run.sh codegenapp-run - <names to unset> <argv...>`, a
service as `sh run.sh codegenapp-service <port> ...`, which is how a later `start_service`
finds it again. The wrapper prints one line first, `codegenapp-run <pid> <start time>`; the
driver takes it out of the output, and kills the run by it on a timeout. Every exec starts a
session of its own (runc makes it one), with no parent inside the container (ppid 0), which
tells runs apart.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

RUN, SERVICE = "codegenapp-run", "codegenapp-service"
SCRIPTS = "/run/codegenapp"  # in the sandbox container
SOURCE = "/workspace/src"
RELAY_SOCKET = "/relay/service.sock"
RELAY_PORT = 8080  # inside the sidecar: the port it publishes
EGRESS_PORT = 3128
EGRESS_CONFIG = "/etc/codegenapp/egress.conf"
EGRESS_PIDFILE = "/tmp/codegenapp-egress.pid"  # noqa: S108 - in the sidecar, ours alone
CACHE_SHARED = "/cache-shared"
CACHE_INCOMING = "/tmp/cache"  # noqa: S108 - in the short-lived cache helper

# Reads /proc/<pid>/stat into variables without forking: a child of the killer would be one
# more process to kill. `__cg_kill RUN SINCE` stops, then kills, the run's process group and
# session, their descendants, and every orphan (adopted by init, pid 1) started since SINCE
# that belongs to no other exec still running: a daemon that left both its session and its
# parent is only found that way. Stopped first, so nothing forks a child we would not see.
_KILLER = r"""
__cg_stat() {
  { read -r __cg_line < "/proc/$1/stat"; } 2>/dev/null || return 1
  __cg_fields ${__cg_line##*) }
}
__cg_fields() { state=$1 ppid=$2 pgid=$3 sid=$4 start=${20}; }
__cg_kill() {
  __cg_run=$1 __cg_since=$2 __cg_members=" " __cg_round=0
  while [ $__cg_round -lt 100 ]; do
    __cg_round=$((__cg_round + 1)) __cg_roots=" " __cg_new=""
    for __cg_p in /proc/[0-9]*; do
      __cg_p=${__cg_p#/proc/}
      __cg_stat "$__cg_p" || continue
      if [ "$ppid" = 0 ] && [ "$__cg_p" != "$$" ] && [ "$__cg_p" != "$__cg_run" ]; then
        __cg_roots="$__cg_roots$__cg_p "
      fi
    done
    for __cg_p in /proc/[0-9]*; do
      __cg_p=${__cg_p#/proc/}
      case $__cg_members in *" $__cg_p "*) continue ;; esac
      if [ "$__cg_p" = "$$" ] || [ "$__cg_p" = 1 ]; then continue; fi
      __cg_stat "$__cg_p" || continue
      [ "$state" != Z ] || continue
      if [ "$sid" != "$__cg_run" ] && [ "$pgid" != "$__cg_run" ]; then
        case $__cg_members in
          *" $ppid "*) ;;
          *) [ "$ppid" = 1 ] && [ "$start" -ge "$__cg_since" ] || continue
             case $__cg_roots in *" $sid "*) continue ;; esac ;;
        esac
      fi
      __cg_members="$__cg_members$__cg_p "
      __cg_new="$__cg_new $__cg_p"
    done
    [ -n "$__cg_new" ] || break
    kill -STOP $__cg_new 2>/dev/null
  done
  [ "$__cg_members" = " " ] || kill -KILL $__cg_members 2>/dev/null
}
"""

# The command runs in a subshell that execs it (so a name such as `exit` or `cd` is a
# program, never a builtin), with the OOM killer pointed at it rather than at the lifeline.
# `cd` would export OLDPWD: put back what the command was given.
_RUN = (
    _KILLER
    + f"""
__cg_stat $$
__cg_since=$start __cg_unset=$3
shift 3
[ -z "$__cg_unset" ] || unset $__cg_unset
{{ echo 1000 > /proc/self/oom_score_adj; }} 2>/dev/null
[ -z "${{OLDPWD+set}}" ] || __cg_oldpwd=$OLDPWD
[ -d {SOURCE} ] || mkdir -p {SOURCE}
cd {SOURCE} || exit 125
if [ -n "${{__cg_oldpwd+set}}" ]; then OLDPWD=$__cg_oldpwd; else unset OLDPWD; fi
echo "{RUN} $$ $__cg_since"
( exec "$@" )
__cg_code=$?
__cg_kill $$ "$__cg_since"
exit $__cg_code
"""
)

_KILL = _KILLER + '__cg_kill "$1" "$2"\n'

# A service's wrapper is an exec (ppid 0) whose 3rd and 4th arguments are SERVICE and its
# port; newlines in arguments become spaces, so that each argument is one line.
_STOP = (
    _KILLER
    + f"""
for __cg_s in /proc/[0-9]*; do
  __cg_s=${{__cg_s#/proc/}}
  [ "$__cg_s" != "$$" ] && __cg_stat "$__cg_s" && [ "$ppid" = 0 ] || continue
  __cg_start=$start
  __cg_args=$(tr '\\0\\n' '\\n ' < "/proc/$__cg_s/cmdline" 2>/dev/null |
    {{ read -r a; read -r b; read -r c; read -r d; echo "$c $d"; }})
  [ "$__cg_args" = "{SERVICE} $1" ] && __cg_kill "$__cg_s" "$__cg_start"
done
exit 0
"""
)

LIFELINE = "while read -r _; do :; done"
"""The main process of a container: it ends, and the container with it, when its standard
input does, that is when the driver that holds it attached closes it or dies."""

_WAIT_LISTENING = (
    "__cg_i=0; until grep -q ':{port:04X} 00000000:0000 0A' /proc/net/tcp; do "
    "__cg_i=$((__cg_i + 1)); [ $__cg_i -lt 1000 ] || exit 1; sleep 0.01; done"
)

SIDECAR_MAIN = (
    f"socat TCP-LISTEN:{RELAY_PORT},fork,reuseaddr UNIX-CONNECT:{RELAY_SOCKET} & "
    + _WAIT_LISTENING.format(port=RELAY_PORT)
    + f"; echo ready; {LIFELINE}"
)
"""The sidecar: relays its published port to the relay's socket, says `ready`, then lives on
as a lifeline."""

RELAY_MAIN = (
    f'rm -f {RELAY_SOCKET}; socat UNIX-LISTEN:{RELAY_SOCKET},fork TCP:127.0.0.1:"$1" & '
    f"__cg_i=0; until [ -S {RELAY_SOCKET} ]; do __cg_i=$((__cg_i + 1)); "
    "[ $__cg_i -lt 1000 ] || exit 1; sleep 0.01; done; "
    f"echo ready; {LIFELINE}"
)
"""The relay, in the sandbox's network namespace: from the socket the sidecar connects to,
to the service on the sandbox's own loopback ($1 is its port)."""

EGRESS_START = (
    f'if [ -f {EGRESS_PIDFILE} ] && kill -0 "$(cat {EGRESS_PIDFILE})" 2>/dev/null; then '
    "exit 0; fi; "
    f"echo $$ > {EGRESS_PIDFILE}; exec tinyproxy -d -c {EGRESS_CONFIG}"
)
"""tinyproxy in the foreground, its log on the exec's output (unless one runs already)."""

EGRESS_READY = _WAIT_LISTENING.format(port=EGRESS_PORT)

EGRESS_STOP = (
    f"if [ -f {EGRESS_PIDFILE} ]; then read -r __cg_p < {EGRESS_PIDFILE}; rm -f {EGRESS_PIDFILE}; "
    'kill "$__cg_p" 2>/dev/null; __cg_i=0; '
    'while kill -0 "$__cg_p" 2>/dev/null && [ $__cg_i -lt 500 ]; do '
    "__cg_i=$((__cg_i + 1)); sleep 0.01; done; fi"
)

CACHE_COPY_IN = f'[ -z "$(ls -A {CACHE_SHARED})" ] || cp -a {CACHE_SHARED}/. /cache/'
"""A sandbox's own copy of the project's cache (a pull request's writes stay in it)."""

CACHE_REPLACE = (
    f"rm -rf {CACHE_SHARED}/* {CACHE_SHARED}/.[!.]* {CACHE_SHARED}/..?* && "
    f"if [ -e {CACHE_INCOMING}.complete ]; then cp -a {CACHE_INCOMING}/. {CACHE_SHARED}/; fi && "
    f"chown 65534:65534 {CACHE_SHARED}"
)
"""The cache helper: the shared cache becomes what the sandbox left in /cache (emptied if
that did not arrive whole)."""

_MARKER = re.compile(rb"codegenapp-run (\d+) (\d+)")


@dataclass(frozen=True, slots=True)
class Run:
    """A command's wrapper inside its container: its pid (also its session and process
    group) and its start time, which tells it from a later process with the same pid."""

    pid: int
    since: int


def script_files() -> dict[str, str]:
    """The scripts, by path, for the sandbox container to hold."""
    return {f"{SCRIPTS}/run.sh": _RUN, f"{SCRIPTS}/kill.sh": _KILL, f"{SCRIPTS}/stop.sh": _STOP}


def run_argv(
    argv: Sequence[str], *, service_port: int | None = None, unset: Sequence[str] = ()
) -> list[str]:
    """`argv` under the wrapper; `unset` names variables Docker adds that must go."""
    marker = [SERVICE, str(service_port)] if service_port is not None else [RUN, "-"]
    return ["sh", f"{SCRIPTS}/run.sh", *marker, " ".join(unset), *argv]


def kill_argv(run: Run) -> list[str]:
    return ["sh", f"{SCRIPTS}/kill.sh", str(run.pid), str(run.since)]


def stop_service_argv(port: int) -> list[str]:
    return ["sh", f"{SCRIPTS}/stop.sh", str(port)]


def parse_marker(line: bytes) -> Run | None:
    found = _MARKER.fullmatch(line.rstrip(b"\n"))
    return None if found is None else Run(pid=int(found[1]), since=int(found[2]))
