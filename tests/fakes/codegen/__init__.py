"""A fake Codegen API (agent runs, resume, ban, logs, rate limits) modelling the real one strictly;
its agent answers through a behaviour the test plugs in and opens real pull requests on the
fake GitHub."""

from tests.fakes.codegen.behaviour import Answer, Behaviour, Change, Failure, Reply, Script, Turn
from tests.fakes.codegen.server import FakeCodegen
from tests.fakes.codegen.traffic import Limits, LoggedRequest, Window
from tests.fakes.codegen.workspace import BOT_LOGIN

__all__ = [
    "BOT_LOGIN",
    "Answer",
    "Behaviour",
    "Change",
    "Failure",
    "FakeCodegen",
    "Limits",
    "LoggedRequest",
    "Reply",
    "Script",
    "Turn",
    "Window",
]
