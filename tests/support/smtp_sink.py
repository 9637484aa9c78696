"""A real SMTP server on loopback for the tests (aiosmtpd): every message it receives is
written to OUT_DIR as <n>.eml. Prints the port it listens on, then serves until killed.

    python3 tests/support/smtp_sink.py OUT_DIR [PORT]
"""
import asyncio
import email
import email.policy
import itertools
import json
import os
import socket
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out):
        self.out = out
        self.n = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.n)
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        parts = {}
        for part in msg.walk():
            if part.get_content_maintype() == "text":
                parts[part.get_content_subtype()] = part.get_content()
        decoded = {
            "to": envelope.rcpt_tos,
            "from": envelope.mail_from,
            "subject": str(msg["subject"]),
            "text": parts.get("plain"),
            "html": parts.get("html"),
        }
        tmp = os.path.join(self.out, f".{n}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(decoded, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(self.out, f"{n}.json"))
        return "250 OK"


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    if len(sys.argv) > 2:
        port = int(sys.argv[2])
    else:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
    ctl = Controller(Sink(out), hostname="127.0.0.1", port=port)
    ctl.start()
    print(port, flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        ctl.stop()


if __name__ == "__main__":
    main()
