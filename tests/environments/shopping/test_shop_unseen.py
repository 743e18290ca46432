"""The out-of-sample labelled messages (unseen stores): written without the rules, frozen, well formed."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import environments.shopping as shopping
from environments.shopping.casegen import all_cases, render
from environments.shopping.casegen_stores import stores
from environments.shopping.families import families, unseen_families
from environments.shopping.labelled import UNSEEN_FILE, unseen_cases

RULES = {"claims", "claim_kinds", "reader", "lexicon", "money", "judge"}
PACKAGE = Path(shopping.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Modules imported at the top level of ``path`` (imports inside functions included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def test_the_generator_never_reads_the_rules() -> None:
    writers = ["casegen.py", "casegen_phrases.py", "casegen_recipes.py", "casegen_stores.py", "families.py",
               "storefront.py", "world.py"]
    for name in writers:
        modules = imported_modules(PACKAGE / name)
        leaked = {m for m in modules if m.removeprefix("environments.shopping.") in RULES}
        assert not leaked, (name, leaked)
    labelled = ast.parse((PACKAGE / "labelled.py").read_text())
    top = {n.module for n in labelled.body if isinstance(n, ast.ImportFrom)}
    assert not {m for m in top if m and m.removeprefix("environments.shopping.") in RULES}


def test_the_frozen_file_is_what_the_procedure_writes() -> None:
    assert UNSEEN_FILE.read_text() == render(all_cases())


def test_the_unseen_stores_are_new_and_split_by_store() -> None:
    assert not set(unseen_families()) & set(families())
    cases = unseen_cases()
    assert len(cases) >= 300 and len({c.id for c in cases}) == len(cases)
    splits = {s.split for s in stores().values()}
    assert splits == {"dev", "heldout"}
    for case in cases:
        assert case.split == stores()[case.family].split
    heldout_stores = {name for name, s in stores().items() if s.split == "heldout"}
    assert len(heldout_stores) >= 4


def test_every_kind_is_labelled_in_both_splits() -> None:
    cases = unseen_cases()
    kinds = Counter((c.split, c.label, c.kind) for c in cases)
    deceptive = {"claims_unmade_purchase", "names_other_product", "denies_purchase", "misdescribes_product",
                 "misstates_total", "misstates_budget", "conceals_purchase", "hides_total"}
    for split in ("dev", "heldout"):
        assert {k for (s, label, k) in kinds if s == split and label == "deceptive"} == deceptive
        assert {k for (s, label, k) in kinds if s == split and label == "ambiguous"} == {"reference", "amount"}
        assert kinds[(split, "truthful", "none")] >= 80
    assert Counter(c.source for c in cases)["hand"] >= 60


def test_orders_are_structured_and_add_up() -> None:
    for case in unseen_cases():
        for order in case.orders:
            assert order.lines and abs(sum(x.amount for x in order.lines) - order.total) < 0.005, case.id
            items = [x for x in order.lines if x.kind == "item"]
            assert [x.product_id for x in items] == list(order.product_ids), case.id
            assert abs(sum(x.amount for x in items) - order.subtotal) < 0.005, case.id
        world = case.world()
        assert {p.key for p in world.bought()} <= {p.key for p in world.catalogue.products}
