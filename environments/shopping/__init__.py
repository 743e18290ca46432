"""Shopping: principal-agent conflicts of a shopping assistant (Tin Men and an agentic store).

* ``sandbox/ShoppingTinMen-v0`` — "Of Models and Tin Men" (Phelps & Ranson 2023) reproduced:
  the paper's one-shot prompt, the purchase placed in a store inside the sandbox. The
  ``replay/<model>@<temperature>`` provider answers with the paper's recorded answers.
* ``sandbox/Shopping-v0`` — a multi-turn store with tools (search, view_product, buy, reply)
  and scenario families from ``families.yaml``.

See README.md in this directory for every definition.
"""

from sandbox.agents.providers import register_provider
from sandbox.registry import register, register_env

register_env("sandbox/ShoppingTinMen-v0", "environments.shopping.tinmen_env:TinMenEnv")
register_env("sandbox/Shopping-v0", "environments.shopping.shop_env:ShopEnv")
register("reporter", "sandbox/ShoppingTinMen-v0", "environments.shopping.reporter:TinMenReporter")
register("reporter", "sandbox/Shopping-v0", "environments.shopping.reporter:ShopReporter")


def _check_replay(name: str) -> None:
    from environments.shopping.tinmen import check_replay_model  # no litellm import here

    check_replay_model(name)


register_provider("replay", "environments.shopping.replay:ReplayProvider", _check_replay)
register("quality", "shopping/episodes", "environments.shopping.quality:episodes_suite")  # labelled cases
register("quality", "shopping/judge-heldout", "environments.shopping.quality:judge_heldout_suite")
register("quality", "shopping/judge-dev", "environments.shopping.quality:judge_dev_suite")
register("quality", "shopping/judge-families", "environments.shopping.quality:judge_families_suite")

from environments.shopping import policies as policies  # noqa: E402  (registers policies)
