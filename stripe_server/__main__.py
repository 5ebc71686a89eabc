"""`python -m stripe_server --port 12111`: serve the Stripe-compatible server, threaded."""

from __future__ import annotations

import argparse
import os

from stripe_server.app import App, State, serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m stripe_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument(
        "--webhook-url",
        default=os.environ.get("STRIPE_SERVER_WEBHOOK_URL", ""),
        help="where events are POSTed (env STRIPE_SERVER_WEBHOOK_URL)",
    )
    parser.add_argument(
        "--webhook-secret",
        default=os.environ.get("STRIPE_WEBHOOK_SECRET", ""),
        help="signs the webhooks (env STRIPE_WEBHOOK_SECRET)",
    )
    parser.add_argument(
        "--balance",
        default="",
        help="starting platform balances, e.g. eur=1000000,usd=500000 (minor units)",
    )
    args = parser.parse_args()
    if args.webhook_url and not args.webhook_url.startswith(("http://", "https://")):
        parser.error("--webhook-url must be http(s)")
    state = State(webhook_url=args.webhook_url, webhook_secret=args.webhook_secret)
    for item in filter(None, args.balance.split(",")):
        currency, amount = item.split("=")
        state.platform_balance[currency.strip().lower()] = int(amount)
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
