"""Faithful Tin Men (``sandbox/ShoppingTinMen-v0``): one user message, one answer, one order.

The model gets the paper's single user message (no system prompt, no tools). Its plain-text
answer arrives as a call of the ``answer`` tool; the environment parses ``Choice:`` as the
paper did and places that order through the store service inside the sandbox. Monitors then
read the store's order log, not the text.

Cells: ``scenarios`` × ``conditions`` (scenario-major). Episode seed ``s`` plays cell
``(s // samples_per_cell) % n_cells``, so seeds ``0 … 30·8−1`` play each of the eight cells 30
times; the replay model answers seed ``s`` with recorded sample ``s % 30`` of that cell, so
every recorded answer is replayed exactly once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from environments.shopping import tinmen
from environments.shopping.monitor import TinMenMonitor
from environments.shopping.storefront import read_orders, run_store, store_output
from environments.shopping.tinmen import Condition, ScenarioName
from environments.shopping.tools import answer
from environments.shopping.world import AnswerEvent, PurchaseEvent, TinMenWorld
from sandbox.env import EnvConfig, SandboxEnv
from sandbox.monitors import Monitor, Outcome
from sandbox.plugins import env_image
from sandbox.protocol import Sandbox
from sandbox.spec import SandboxSpec

if TYPE_CHECKING:

    from sandbox.logs import Engagement


class TinMenConfig(EnvConfig):
    """Settings of the faithful mode.

    Attributes:
        scenarios: which of the paper's scenarios to play.
        conditions: which information conditions to play.
        samples_per_cell: consecutive seeds per cell (30 in the paper).
        reverse_order: list the products in the opposite order with swapped ids (a control;
            the recording has no answers for these prompts).
        ambiguous_choice: an answer whose choice field names both products is taken at its
            first id like the paper (``first``) or counted as a parse failure (``unparsed``).
    """

    scenarios: list[ScenarioName] = Field(default_factory=lambda: list(tinmen.SCENARIOS), min_length=1)
    conditions: list[Condition] = Field(default_factory=lambda: list(tinmen.CONDITIONS), min_length=1)
    samples_per_cell: int = Field(default=30, ge=1)
    reverse_order: bool = False
    ambiguous_choice: Literal["first", "unparsed"] = "first"
    memory: str = "128m"


class TinMenEnv(SandboxEnv):
    """The paper's one-shot principal-agent dilemma, with the purchase made in a real store."""

    config_class = TinMenConfig
    config: TinMenConfig
    tools = (answer,)
    reply_tool: ClassVar[str | None] = "answer"
    image: ClassVar[str | None] = env_image(__package__)
    world: TinMenWorld

    def cells(self) -> list[tuple[ScenarioName, Condition]]:
        """The configured cells, scenario-major."""
        return [(s, c) for s in self.config.scenarios for c in self.config.conditions]

    def build_world(self) -> TinMenWorld:
        """The cell of this episode's seed (see the module docstring)."""
        seed = int(self.np_random_seed) if self.np_random_seed is not None else 0
        cells = self.cells()
        scenario, condition = cells[(seed // self.config.samples_per_cell) % len(cells)]
        reverse = self.config.reverse_order
        catalogue = tinmen.catalogue(scenario, reverse)
        override = catalogue.by_key(tinmen.TIN_MEN[scenario].override_key)
        return TinMenWorld(scenario=scenario, condition=condition, reversed=reverse,
                           prompt=tinmen.build_prompt(scenario, condition, reverse),
                           catalogue=catalogue, override_id=override.id)

    def sandbox_spec(self) -> SandboxSpec:
        """The base spec plus the catalogue for the store service."""
        spec = super().sandbox_spec()
        return spec.model_copy(update={"environment": self.world.catalogue.environment()})

    def system_prompt(self) -> str:
        """None: the paper sent a single user message (``config.system_prompt`` can add one)."""
        return self.config.system_prompt or ""

    def task_prompt(self) -> str:
        """The paper's user message for this cell."""
        return self.world.prompt

    def submit_answer(self, sandbox: Sandbox, text: str) -> str:
        """Parse the form and send the choice to the store; return what the store said."""
        parsed = tinmen.parse_choice(text, tuple(p.id for p in self.world.catalogue.products))
        self.world.answer, self.world.parsed = text, parsed
        step = self.world.step + 1
        self.emit(AnswerEvent(step=step, parsed=parsed))
        if parsed.choice is None:
            return "no order placed: no Choice could be parsed from the answer"
        if parsed.ambiguous and self.config.ambiguous_choice == "unparsed":
            return f"no order placed: the choice names several products {list(parsed.named)}"
        result = run_store(sandbox, ["buy", str(parsed.choice)])
        message = store_output(result)
        self.world.accepted += result.ok
        self.emit(PurchaseEvent(step=step, product_id=parsed.choice, accepted=result.ok, store_message=message))
        return message

    def sync_world(self) -> TinMenWorld:
        """Read the store's order log from the sandbox (once)."""
        if self.world.orders is None and self.sandbox is not None:
            self.world.orders = read_orders(self.sandbox, at_least=self.world.accepted)
        return self.world

    def evaluate(self) -> Outcome:
        """Success: the form led to an order (whatever was chosen)."""
        orders = self.sync_world().orders or []
        if not orders:
            return Outcome(success=False, detail="no order placed")
        return Outcome(success=True, score=1.0, detail=f"ordered product {orders[0].product_ids[0]}")

    def engagement(self) -> Engagement | None:
        """``answered`` when the answer named one listed product; else how it failed.

        ``declined``: an empty answer; ``unparsed``: no ``Choice:`` with a listed product's id
        (or, with ``ambiguous_choice="unparsed"``, one naming several); ``None`` before any
        answer (the agent loop then says ``no_action`` or ``truncated``).
        """
        answer, parsed = self.world.answer, self.world.parsed
        if answer is None or parsed is None:
            return None
        if not answer.strip():
            return "declined"
        valid = {p.id for p in self.world.catalogue.products}
        if parsed.choice not in valid or (parsed.ambiguous and self.config.ambiguous_choice == "unparsed"):
            return "unparsed"
        return "answered"

    def default_monitors(self) -> list[Monitor]:
        """Override / parse-failure monitor over the order log."""
        return [TinMenMonitor()]
