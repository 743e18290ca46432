#!/usr/bin/env python3
"""The in-sandbox store service: catalogue, search, product pages, cart, checkout, order log.

Stdlib only. The catalogue comes from the ``STORE_CATALOGUE`` environment variable (JSON:
``{"currency": "$", "products": [{"id", "name", "price", "fee", "tags", "description",
"sponsored"}]}``, in display order). State (cart, orders) lives in ``/tmp/.store/state.json``,
created mode 0700 by whoever calls first (the environment calls as root).

Commands (one per call)::

    store search [WORDS...] [--max-price P]   list matching products
    store view ID                             a product page (price, fees, total)
    store add ID                              put a product in the cart
    store cart                                show the cart
    store checkout                            buy the cart, append to the order log
    store buy ID                              add ID and check out at once
    store orders                              '# orders: N', then the log, one JSON object a line

Errors print ``error: ...`` on stderr and exit 1.
"""

import json
import os
import sys

STATE_DIR = "/tmp/.store"
STATE = os.path.join(STATE_DIR, "state.json")


def fail(message):
    sys.stderr.write("error: " + message + "\n")
    raise SystemExit(1)


def catalogue():
    raw = os.environ.get("STORE_CATALOGUE", "")
    if not raw:
        fail("the store has no catalogue")
    return json.loads(raw)


def load():
    if not os.path.exists(STATE):
        os.makedirs(STATE_DIR, mode=0o700, exist_ok=True)
        return {"cart": [], "orders": []}
    with open(STATE) as handle:
        return json.load(handle)


def save(state):
    tmp = STATE + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(state, handle)
    os.replace(tmp, STATE)


def money(cat, amount):
    return f"{cat.get('currency', '$')}{amount:,.2f}"


def product(cat, raw_id):
    try:
        wanted = int(str(raw_id).strip().lstrip("#"))
    except ValueError:
        fail(f"product id must be a number, got {raw_id!r}")
    for item in cat["products"]:
        if item["id"] == wanted:
            return item
    fail(f"no product with id {wanted} (search to see the ids)")


def line(cat, item):
    tag = " [Sponsored]" if item.get("sponsored") else ""
    return f"[Product id: {item['id']}] {item['name']} - {money(cat, item['price'])}{tag}"


def cmd_search(cat, args):
    max_price = None
    words: list = []
    it = iter(args)
    for arg in it:
        if arg == "--max-price":
            try:
                max_price = float(next(it, ""))
            except ValueError:
                fail("--max-price needs a number")
        else:
            words.extend(w.lower() for w in arg.split())
    found = []
    for item in cat["products"]:
        text = " ".join([item["name"], item.get("description", ""), " ".join(item.get("tags", []))]).lower()
        if words and not any(w in text for w in words):
            continue
        if max_price is not None and item["price"] > max_price:
            continue
        found.append(line(cat, item))
    print("\n".join(found) if found else "no products match")


def cmd_view(cat, args):
    if len(args) != 1:
        fail("usage: store view ID")
    item = product(cat, args[0])
    fee = item.get("fee", 0.0)
    print(line(cat, item))
    print(item.get("description", ""))
    print("Tags: " + ", ".join(item.get("tags", [])))
    print("Price: " + money(cat, item["price"]))
    print("Fees at checkout: " + money(cat, fee))
    print("Total at checkout: " + money(cat, item["price"] + fee))


def add(cat, state, raw_id):
    item = product(cat, raw_id)
    state["cart"].append(item["id"])
    return item


def checkout(cat, state):
    if not state["cart"]:
        fail("the cart is empty")
    items = [product(cat, pid) for pid in state["cart"]]
    subtotal = sum(i["price"] for i in items)
    fees = sum(i.get("fee", 0.0) for i in items)
    order = {
        "order_id": len(state["orders"]) + 1,
        "product_ids": [i["id"] for i in items],
        "subtotal": round(subtotal, 2),
        "fees": round(fees, 2),
        "total": round(subtotal + fees, 2),
    }
    state["orders"].append(order)
    state["cart"] = []
    save(state)
    names = ", ".join(f"{i['name']} (id {i['id']})" for i in items)
    print(f"Order {order['order_id']} placed: {names}. Subtotal {money(cat, subtotal)}, "
          f"fees {money(cat, fees)}, total charged {money(cat, order['total'])}.")


def cmd_add(cat, args):
    state = load()
    item = add(cat, state, args[0] if args else "")
    save(state)
    print(f"added {item['name']} to the cart")


def cmd_cart(cat, args):
    state = load()
    print("\n".join(line(cat, product(cat, p)) for p in state["cart"]) or "the cart is empty")


def cmd_checkout(cat, args):
    checkout(cat, load())


def cmd_buy(cat, args):
    if len(args) != 1:
        fail("usage: store buy ID")
    state = load()
    add(cat, state, args[0])
    checkout(cat, state)


def cmd_orders(cat, args):
    orders = load()["orders"]
    print(f"# orders: {len(orders)}")
    for order in orders:
        print(json.dumps(order, sort_keys=True))


COMMANDS = {"search": cmd_search, "view": cmd_view, "add": cmd_add, "cart": cmd_cart,
            "checkout": cmd_checkout, "buy": cmd_buy, "orders": cmd_orders}


def main(argv):
    if not argv or argv[0] not in COMMANDS:
        fail(f"usage: store {'|'.join(COMMANDS)} ...")
    COMMANDS[argv[0]](catalogue(), argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
