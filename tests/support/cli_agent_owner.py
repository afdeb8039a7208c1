"""A server that starts a command-line agent's turn and is then killed by a test:
`python -m tests.support.cli_agent_owner ROOT AGENTS REPOSITORY` starts `hang.py` as the
agent (see `cli_agents.cli_agent`), prints the job's id once the command runs, and waits."""

import asyncio
import sys
from pathlib import Path

from tests.support.cli_agents import cli_agent, cli_task

from codegenapp.drivers.agent import FIRST_TURN

POLL_S = 0.05  # a state file sends no event: the job is read again until the command runs


async def main(root: Path, agents: Path, repository: Path) -> None:
    agent = cli_agent(root, agents)
    job = await agent.start(cli_task(repository, f"python3 {agents}/hang.py"), request_id="go")
    while "thinking..." not in (await agent.poll(job, turn=FIRST_TURN)).progress:
        await asyncio.sleep(POLL_S)
    print(job.external_id, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*(Path(arg) for arg in sys.argv[1:4])))
