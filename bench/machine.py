"""What every benchmark prints first: the machine it measured, and how busy it was."""

import os
import platform
from pathlib import Path


def describe() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{platform.node()}: {cpu}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, load average {load}"
    )
