#!/usr/bin/env python3
"""The platform side of WeChat Official Account / WeCom callbacks, for integration tests.

An implementation independent of the Rust service: Python 3.11 standard library only, with
AES done by the `openssl` command-line tool. It signs, encrypts and decrypts exactly as the
platforms do, and builds ready-to-POST pushes.

  wx_platform.py encrypt --key K --receive-id ID (--msg-file F | --msg S) [--random-hex H]
  wx_platform.py decrypt --key K --receive-id ID (--cipher C | --cipher-file F)  (no newline added)
  wx_platform.py sign --token T --timestamp S --nonce N [--encrypt E]
  wx_platform.py push --token T --key K --appid A (--xml-file F | --xml S) [--plain | --wecom]
                      [--timestamp S] [--nonce N] [--openid]
  wx_platform.py urlcheck --token T [--key K --appid A --wecom] [--echo S]
  wx_platform.py selftest

`push` prints {"query": {...}, "body": "<xml>...</xml>"}. Official Account safe mode (the
default) gives timestamp, nonce, signature, msg_signature and encrypt_type=aes; --plain gives
timestamp, nonce and signature with the XML as the body; --wecom gives msg_signature,
timestamp and nonce, with the corp id as --appid. --openid adds the `openid` parameter the
Official Account platform also sends. `urlcheck` prints the GET query of a server-URL check
plus the answer expected from the server. A file argument of `-` reads standard input.

Protocol facts (see shared/WECHAT.md): signature = hex SHA-1 of the sorted, concatenated
token, timestamp, nonce (and Encrypt text for msg_signature). Key = base64(EncodingAESKey+"="),
IV = key[:16], AES-256-CBC, plaintext = random16 | u32be(len) | msg | receive id, padded
PKCS#7-style to 32-byte blocks.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import unittest

BLOCK = 32


class CryptoError(Exception):
    pass


def signature(token: str, timestamp: str, nonce: str, encrypt: str | None = None) -> str:
    parts = [token, timestamp, nonce] + ([encrypt] if encrypt is not None else [])
    # Sort by UTF-8 bytes, as the platforms' byte-string comparison does.
    parts.sort(key=lambda p: p.encode("utf-8"))
    return hashlib.sha1("".join(parts).encode("utf-8")).hexdigest()


def aes_key(encoding_aes_key: str) -> bytes:
    if len(encoding_aes_key) != 43:
        raise CryptoError("EncodingAESKey must be 43 characters")
    try:
        # binascii ignores non-zero trailing bits unless strict_mode is on, which is what
        # platform-generated keys need.
        key = binascii.a2b_base64((encoding_aes_key + "=").encode("ascii"), strict_mode=False)
    except (binascii.Error, UnicodeEncodeError) as e:
        raise CryptoError(f"EncodingAESKey is not base64: {e}") from e
    if not re.fullmatch(r"[A-Za-z0-9+/]{43}", encoding_aes_key) or len(key) != 32:
        raise CryptoError("EncodingAESKey must decode to 32 bytes")
    return key


def _openssl(decrypt: bool, key: bytes, data: bytes) -> bytes:
    exe = shutil.which("openssl")
    if exe is None:
        raise SystemExit("wx_platform.py needs the `openssl` command-line tool on PATH")
    args = [exe, "enc", "-aes-256-cbc", "-K", key.hex(), "-iv", key[:16].hex(), "-nopad"]
    if decrypt:
        args.insert(2, "-d")
    out = subprocess.run(args, input=data, capture_output=True, check=False)
    if out.returncode != 0:
        raise CryptoError("openssl failed: " + out.stderr.decode(errors="replace").strip())
    return out.stdout


def encrypt(encoding_aes_key: str, receive_id: str, msg: bytes, random16: bytes | None = None) -> str:
    key = aes_key(encoding_aes_key)
    random16 = os.urandom(16) if random16 is None else random16
    if len(random16) != 16:
        raise CryptoError("the random prefix must be 16 bytes")
    body = random16 + len(msg).to_bytes(4, "big") + msg + receive_id.encode("utf-8")
    pad = BLOCK - len(body) % BLOCK
    return base64.b64encode(_openssl(False, key, body + bytes([pad]) * pad)).decode("ascii")


def decrypt(encoding_aes_key: str, receive_id: str, b64: str) -> bytes:
    key = aes_key(encoding_aes_key)
    try:
        data = base64.b64decode(b64, validate=True)
    except binascii.Error as e:
        raise CryptoError(f"ciphertext is not base64: {e}") from e
    if not data or len(data) % 16:
        raise CryptoError("ciphertext length is not a positive multiple of 16")
    plain = _openssl(True, key, data)
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or pad > len(plain) or plain[-pad:] != bytes([pad]) * pad:
        raise CryptoError("bad padding")
    plain = plain[:-pad]
    if len(plain) < 20:
        raise CryptoError("frame too short")
    n = int.from_bytes(plain[16:20], "big")
    if 20 + n > len(plain):
        raise CryptoError("length field beyond the frame")
    msg, rid = plain[20 : 20 + n], plain[20 + n :]
    if rid != receive_id.encode("utf-8"):
        raise CryptoError("receive id mismatch")
    return msg


def cdata(s: str) -> str:
    return "<![CDATA[" + s.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _field(xml: str, name: str) -> str | None:
    """The text of a first-level field of our own test XML (CDATA or plain)."""
    m = re.search(rf"<{name}>\s*(?:<!\[CDATA\[(.*?)\]\]>|([^<]*))\s*</{name}>", xml, re.S)
    if not m:
        return None
    return m.group(1) if m.group(1) is not None else m.group(2)


def push(token: str, key: str | None, appid: str, xml: str, mode: str = "safe",
         timestamp: str | None = None, nonce: str | None = None, openid: bool = False) -> dict:
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or str(secrets.randbelow(10**10))
    query: dict[str, str] = {}
    if mode == "plain":
        query = {"timestamp": timestamp, "nonce": nonce,
                 "signature": signature(token, timestamp, nonce)}
        body = xml
    else:
        if key is None:
            raise CryptoError("--key is required for encrypted pushes")
        enc = encrypt(key, appid, xml.encode("utf-8"))
        msg_sig = signature(token, timestamp, nonce, enc)
        to_user = _field(xml, "ToUserName") or appid
        if mode == "wecom":
            query = {"msg_signature": msg_sig, "timestamp": timestamp, "nonce": nonce}
            agent = _field(xml, "AgentID")
            body = (f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
                    + (f"<AgentID>{cdata(agent)}</AgentID>" if agent is not None else "")
                    + f"<Encrypt>{cdata(enc)}</Encrypt></xml>")
        else:
            query = {"timestamp": timestamp, "nonce": nonce,
                     "signature": signature(token, timestamp, nonce),
                     "msg_signature": msg_sig, "encrypt_type": "aes"}
            body = f"<xml><ToUserName>{cdata(to_user)}</ToUserName><Encrypt>{cdata(enc)}</Encrypt></xml>"
    if openid and mode != "wecom":
        sender = _field(xml, "FromUserName")
        if sender is not None:
            query["openid"] = sender
    return {"query": query, "body": body}


def urlcheck(token: str, key: str | None, appid: str | None, wecom: bool,
             echo: str | None = None, timestamp: str | None = None, nonce: str | None = None) -> dict:
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or str(secrets.randbelow(10**10))
    echo = echo or str(secrets.randbelow(10**19))
    if not wecom:
        return {"query": {"signature": signature(token, timestamp, nonce), "timestamp": timestamp,
                          "nonce": nonce, "echostr": echo}, "expect": echo}
    if key is None or appid is None:
        raise CryptoError("--key and --appid are required for a WeCom URL check")
    enc = encrypt(key, appid, echo.encode("utf-8"))
    return {"query": {"msg_signature": signature(token, timestamp, nonce, enc),
                      "timestamp": timestamp, "nonce": nonce, "echostr": enc}, "expect": echo}


# ---------------------------------------------------------------------------------------------
# Self-test against Tencent's published vectors.

OA_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OA_APPID = "wxb11529c136998cb6"
WECOM_TOKEN = "QDG6eK"
WECOM_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
WECOM_CORP = "wx5823bf96d3bd56c7"


class SelfTest(unittest.TestCase):
    def test_url_check_signature(self):
        # The Official Account server-URL check example (shared/WECHAT.md).
        self.assertEqual(signature("AAAAA", "1714036504", "1514711492"),
                         "f464b24fc39322e44b38aa78f5edd27bd1441696")

    def test_official_account_sample(self):
        # Tencent's Official Account sample test (token `pamtest`), fixed random prefix.
        ct = encrypt(OA_KEY, OA_APPID, "我是中文abcd123".encode(), b"aaaabbbbccccdddd")
        self.assertEqual(ct, "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg==")
        self.assertEqual(decrypt(OA_KEY, OA_APPID, ct).decode(), "我是中文abcd123")
        with self.assertRaises(CryptoError):
            decrypt(OA_KEY, "wx0000000000000000", ct)

    def test_wecom_url_check_sample(self):
        # WeCom's URL-check sample (Tencent's sample code, `testVerifyUrl` / Sample.cs).
        echo = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
        self.assertEqual(signature(WECOM_TOKEN, "1409659589", "263014780", echo),
                         "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3")
        self.assertEqual(decrypt(WECOM_KEY, WECOM_CORP, echo), b"1616140317555161061")

    def test_wecom_documented_push(self):
        # WeCom's callback crypto documentation and Sample.cs.
        enc = ("RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==")
        self.assertEqual(signature(WECOM_TOKEN, "1409659813", "1372623149", enc),
                         "477715d11cdb4164915debcba66cb864d751f3e6")
        xml = decrypt(WECOM_KEY, WECOM_CORP, enc).decode()
        self.assertEqual(_field(xml, "Content"), "hello")
        self.assertEqual(_field(xml, "MsgId"), "4561255354251345929")
        self.assertEqual(_field(xml, "AgentID"), "218")

    def test_padding(self):
        for n in range(0, 70):
            msg = b"x" * n
            self.assertEqual(decrypt(OA_KEY, OA_APPID, encrypt(OA_KEY, OA_APPID, msg)), msg)
        # Every ciphertext is a whole number of 32-byte blocks, and a full block of pad is used
        # when the frame is already aligned (20 + 26 + 18 = 64).
        ct = base64.b64decode(encrypt(OA_KEY, OA_APPID, b"y" * 26))
        self.assertEqual(len(ct), 96)
        for bad in ["", "!!!!", base64.b64encode(b"x" * 17).decode()]:
            with self.assertRaises(CryptoError):
                decrypt(OA_KEY, OA_APPID, bad)

    def test_pushes(self):
        xml = ("<xml><ToUserName><![CDATA[gh_acct]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName>"
               "<CreateTime>1714036504</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               "<Content><![CDATA[举报]]></Content><MsgId>1</MsgId></xml>")
        p = push("tok", OA_KEY, OA_APPID, xml, "safe", "1714036504", "42", openid=True)
        q = p["query"]
        self.assertEqual(q["encrypt_type"], "aes")
        self.assertEqual(q["openid"], "oUser")
        self.assertEqual(q["signature"], signature("tok", "1714036504", "42"))
        enc = _field(p["body"], "Encrypt")
        self.assertEqual(_field(p["body"], "ToUserName"), "gh_acct")
        self.assertEqual(q["msg_signature"], signature("tok", "1714036504", "42", enc))
        self.assertEqual(decrypt(OA_KEY, OA_APPID, enc).decode(), xml)
        plain = push("tok", None, OA_APPID, xml, "plain", "1", "2")
        self.assertEqual(plain["body"], xml)
        self.assertEqual(set(plain["query"]), {"timestamp", "nonce", "signature"})
        wecom_xml = xml.replace("</xml>", "<AgentID>1000002</AgentID></xml>")
        w = push(WECOM_TOKEN, WECOM_KEY, WECOM_CORP, wecom_xml, "wecom", "1", "2")
        self.assertEqual(set(w["query"]), {"msg_signature", "timestamp", "nonce"})
        self.assertEqual(_field(w["body"], "AgentID"), "1000002")
        self.assertEqual(decrypt(WECOM_KEY, WECOM_CORP, _field(w["body"], "Encrypt")).decode(), wecom_xml)
        u = urlcheck(WECOM_TOKEN, WECOM_KEY, WECOM_CORP, True, "12345", "1", "2")
        self.assertEqual(decrypt(WECOM_KEY, WECOM_CORP, u["query"]["echostr"]), b"12345")

    def test_keys(self):
        self.assertEqual(len(aes_key(OA_KEY)), 32)
        for bad in ["", OA_KEY[:42], OA_KEY[:42] + "!", OA_KEY + "="]:
            with self.assertRaises(CryptoError):
                aes_key(bad)

    def test_cdata(self):
        self.assertEqual(cdata("a]]>b"), "<![CDATA[a]]]]><![CDATA[>b]]>")


def _read_bytes(path: str) -> bytes:
    """The exact bytes of a file (no newline translation); `-` is standard input."""
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as f:
        return f.read()


def _read(path: str) -> str:
    return _read_bytes(path).decode("utf-8")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    e = sub.add_parser("encrypt", help="print base64 ciphertext of a message")
    e.add_argument("--key", required=True)
    e.add_argument("--receive-id", required=True)
    g = e.add_mutually_exclusive_group(required=True)
    g.add_argument("--msg-file")
    g.add_argument("--msg")
    e.add_argument("--random-hex", help="16 bytes of hex for the random prefix (tests only)")

    d = sub.add_parser("decrypt", help="print the message inside a ciphertext")
    d.add_argument("--key", required=True)
    d.add_argument("--receive-id", required=True)
    g = d.add_mutually_exclusive_group(required=True)
    g.add_argument("--cipher")
    g.add_argument("--cipher-file")

    s = sub.add_parser("sign", help="print the hex signature")
    s.add_argument("--token", required=True)
    s.add_argument("--timestamp", required=True)
    s.add_argument("--nonce", required=True)
    s.add_argument("--encrypt")

    p = sub.add_parser("push", help="print a push as JSON {query, body}")
    p.add_argument("--token", required=True)
    p.add_argument("--key")
    p.add_argument("--appid", required=True, help="app id, or corp id with --wecom")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--xml-file")
    g.add_argument("--xml")
    m = p.add_mutually_exclusive_group()
    m.add_argument("--plain", action="store_true", help="Official Account plaintext mode")
    m.add_argument("--wecom", action="store_true", help="WeCom app callback")
    p.add_argument("--timestamp")
    p.add_argument("--nonce")
    p.add_argument("--openid", action="store_true", help="add the openid query parameter")

    u = sub.add_parser("urlcheck", help="print a server-URL check as JSON {query, expect}")
    u.add_argument("--token", required=True)
    u.add_argument("--key")
    u.add_argument("--appid")
    u.add_argument("--wecom", action="store_true")
    u.add_argument("--echo")
    u.add_argument("--timestamp")
    u.add_argument("--nonce")

    sub.add_parser("selftest", help="run the built-in tests against Tencent's sample vectors")

    a = ap.parse_args(argv)
    try:
        if a.cmd == "encrypt":
            msg = _read_bytes(a.msg_file) if a.msg_file is not None else a.msg.encode("utf-8")
            rnd = bytes.fromhex(a.random_hex) if a.random_hex else None
            print(encrypt(a.key, a.receive_id, msg, rnd))
        elif a.cmd == "decrypt":
            ct = _read(a.cipher_file).strip() if a.cipher_file is not None else a.cipher
            # The message's exact bytes, with no newline added.
            sys.stdout.buffer.write(decrypt(a.key, a.receive_id, ct))
        elif a.cmd == "sign":
            print(signature(a.token, a.timestamp, a.nonce, a.encrypt))
        elif a.cmd == "push":
            xml = _read(a.xml_file) if a.xml_file is not None else a.xml
            mode = "plain" if a.plain else "wecom" if a.wecom else "safe"
            out = push(a.token, a.key, a.appid, xml, mode, a.timestamp, a.nonce, a.openid)
            print(json.dumps(out, ensure_ascii=False))
        elif a.cmd == "urlcheck":
            out = urlcheck(a.token, a.key, a.appid, a.wecom, a.echo, a.timestamp, a.nonce)
            print(json.dumps(out, ensure_ascii=False))
        elif a.cmd == "selftest":
            suite = unittest.defaultTestLoader.loadTestsFromTestCase(SelfTest)
            result = unittest.TextTestRunner(verbosity=2).run(suite)
            return 0 if result.wasSuccessful() else 1
    except (CryptoError, UnicodeDecodeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
