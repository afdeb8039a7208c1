"""The evaluating browser's control group: memory, CPU time and a process count for Chromium
and every process it starts, together. A page the pull request wrote can allocate without end
or spin; the kernel then stops Chromium (a renderer killed for memory is reported as a crashed
page), not the worker, its database or the sandboxes beside it (docs/adr/0014).

The group sits with the sandboxes' (`cgroups.CgroupTree`), named after this worker process.
Making groups needs root or a delegated tree; without them the browser runs unlimited, and the
log says so once.
"""

import logging
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from codegenapp.drivers.sandbox import ResourceLimits, cgroups
from codegenapp.errors import SandboxError

log = logging.getLogger(__name__)
# Measured (bench/web_eval.py): ~280 MiB idle, ~410 MiB at the peak of an evaluation.
BROWSER_LIMITS = ResourceLimits(cpus=1.0, memory_mb=1536, pids=512)


@dataclass(frozen=True, slots=True)
class BrowserGroup:
    groups: tuple[Path, ...]

    @classmethod
    def make(cls) -> "BrowserGroup | None":
        """This worker's browser group, limits set; None where groups cannot be made here.
        Blocking: call it through `asyncio.to_thread`."""
        tree = cgroups.CgroupTree.detect()
        if tree is None:
            log.warning("no control group for the browser here (not root): it runs unlimited")
            return None
        try:
            return cls(tree.create(f"browser-{os.getpid()}", BROWSER_LIMITS))
        except SandboxError as error:
            log.warning("the browser runs unlimited: %s", error)
            return None

    def join_command(self) -> str:
        """Shell lines that move the shell itself into the group (what it `exec`s stays)."""
        files = " ".join(shlex.quote(path) for path in cgroups.procs_files(self.groups))
        return f'for procs in {files}; do echo $$ > "$procs"; done'

    def remove(self) -> None:
        """Kill what is left in the group, then remove it. Blocking."""
        cgroups.kill_all(self.groups)
        try:
            cgroups.remove(self.groups)
        except SandboxError as error:
            log.warning("%s", error)
