"""`python -m stripe_server --port 12111`: serve the Stripe-compatible server, threaded.

`make run` starts it from the Procfile with the app's webhook endpoint and secret, platform
balances large enough for the demo's transfers, and payouts that get paid on their own.
"""

from __future__ import annotations

import argparse
import os
import re

from stripe_server.app import App, State, serve

_BALANCE = re.compile(r"([A-Za-z]{3})=(\d+)")


def balances(values: list[str]) -> dict[str, int]:
    """`["eur=100", "pln=5,usd=7"]` -> `{"eur": 100, "pln": 5, "usd": 7}` (later ones win).

    Raises ValueError on an item that is not `<currency>=<minor units>`."""
    result: dict[str, int] = {}
    for value in values:
        for item in filter(None, (part.strip() for part in value.split(","))):
            match = _BALANCE.fullmatch(item)
            if match is None:
                raise ValueError(item)
            result[match[1].lower()] = int(match[2])
    return result


def non_negative_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError("must be 0 or more")
    return seconds


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m stripe_server", description="Serve the Stripe-compatible server."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111, help="0: a free port")
    parser.add_argument(
        "--webhook-url",
        default=os.environ.get("STRIPE_SERVER_WEBHOOK_URL", ""),
        help="where events are POSTed (env STRIPE_SERVER_WEBHOOK_URL; default: nowhere)",
    )
    parser.add_argument(
        "--webhook-secret",
        default=os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        help="signs the webhooks (env STRIPE_WEBHOOK_SECRET)",
    )
    parser.add_argument(
        "--balance",
        action="append",
        default=[],
        metavar="CURRENCY=MINOR",
        help="a starting platform balance in minor units, e.g. eur=100000000; repeat it (or "
        "separate with commas) for several currencies",
    )
    parser.add_argument(
        "--settle-payouts-after",
        type=non_negative_seconds,
        default=None,
        metavar="SECONDS",
        help="pay connected accounts' payouts (payout.paid) once pending this long; "
        "default: only through /_control/payouts/<id>",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    cli = parser()
    args = cli.parse_args(argv)
    if args.webhook_url and not args.webhook_url.startswith(("http://", "https://")):
        cli.error("--webhook-url must be http(s)")
    try:
        starting = balances(args.balance)
    except ValueError as exc:
        cli.error(f"--balance takes CURRENCY=MINOR_UNITS, e.g. eur=100000000, not {exc}")
    state = State(
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        settle_payouts_after=args.settle_payouts_after,
    )
    state.platform_balance.update(starting)
    server, _ = serve(args.host, args.port, App(state), quiet=False)
    print(f"Stripe-compatible server on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
