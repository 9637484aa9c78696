#!/usr/bin/env python3
"""Loopback fakes of the two SMS providers, for the integration tests. Independent of the
Rust service: Python 3 standard library only, each signature checked by the provider's
documented steps.

  sms_sink.py --port-file F --record F --key-id ID --secret S

Tencent Cloud SMS (API 3.0, POST /, JSON body, `X-TC-Action: SendSms`), TC3-HMAC-SHA256:
  CanonicalRequest = POST \\n / \\n (empty query) \\n content-type:<ct>\\nhost:<host>\\n \\n
                     content-type;host \\n hex(sha256(body))
  StringToSign     = TC3-HMAC-SHA256 \\n X-TC-Timestamp \\n <date>/sms/tc3_request \\n
                     hex(sha256(CanonicalRequest))
  kDate = HMAC("TC3"+secret, date); kService = HMAC(kDate, "sms");
  kSigning = HMAC(kService, "tc3_request"); signature = hex(HMAC(kSigning, StringToSign))
  Authorization = TC3-HMAC-SHA256 Credential=<id>/<date>/sms/tc3_request,
                  SignedHeaders=content-type;host, Signature=<signature>
Alibaba Cloud SMS (RPC, GET /?…&Signature=…), HMAC-SHA1:
  canonical = sorted params (without Signature), each key and value percent-encoded
              (RFC 3986, unreserved kept), joined k=v by &
  StringToSign = GET & %2F & percent-encode(canonical)
  Signature = base64(HMAC-SHA1(secret + "&", StringToSign))

Every request is appended to the record file as one JSON line:
  {"provider": "tencent"|"aliyun", "verified": bool, "phones": [...], "template": str,
   "params": [...], "sign_name": str, "raw": <the whole request as text>}
A phone number ending in 0000 is refused as a provider would refuse a bad number.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, urlsplit


def h256(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def tencent_authorization(secret_id: str, secret_key: str, host: str, ct: str, ts: str, body: bytes) -> str:
    date = datetime.datetime.fromtimestamp(int(ts), datetime.timezone.utc).strftime("%Y-%m-%d")
    canonical = "\n".join([
        "POST", "/", "",
        f"content-type:{ct}\nhost:{host}\n",
        "content-type;host",
        hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{date}/sms/tc3_request"
    to_sign = "\n".join(["TC3-HMAC-SHA256", ts, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = h256(h256(h256(("TC3" + secret_key).encode(), date), "sms"), "tc3_request")
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return (f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, "
            f"SignedHeaders=content-type;host, Signature={sig}")


def pop(s: str) -> str:
    return quote(s, safe="-_.~")


def aliyun_signature(secret: str, params: dict[str, str]) -> str:
    canonical = "&".join(f"{pop(k)}={pop(v)}" for k, v in sorted(params.items()))
    to_sign = "GET&%2F&" + pop(canonical)
    return base64.b64encode(hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


class Sink:
    def __init__(self, record: str, key_id: str, secret: str):
        self.record, self.key_id, self.secret = record, key_id, secret
        self.lock = threading.Lock()

    def write(self, entry: dict) -> None:
        with self.lock, open(self.record, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")


def handler(sink: Sink):
    class H(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):  # Tencent
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            ct = self.headers.get("Content-Type", "")
            ts = self.headers.get("X-TC-Timestamp", "0")
            expected = tencent_authorization(sink.key_id, sink.secret, self.headers.get("Host", ""), ct, ts, body)
            fresh = ts.isdigit() and abs(int(ts) - time.time()) < 300
            verified = (fresh and hmac.compare_digest(self.headers.get("Authorization", ""), expected)
                        and self.headers.get("X-TC-Action") == "SendSms"
                        and self.headers.get("X-TC-Version") == "2021-01-11")
            try:
                req = json.loads(body)
            except ValueError:
                req = {}
            phones = req.get("PhoneNumberSet", [])
            sink.write({"provider": "tencent", "verified": verified, "phones": phones,
                        "template": req.get("TemplateId"), "params": req.get("TemplateParamSet", []),
                        "sign_name": req.get("SignName"), "app_id": req.get("SmsSdkAppId"),
                        "raw": json.dumps(dict(self.headers)) + body.decode("utf-8", "replace")})
            if not verified:
                self.answer(200, {"Response": {"Error": {"Code": "AuthFailure.SignatureFailure",
                                                          "Message": "The provided credentials could not be validated."},
                                               "RequestId": "r-1"}})
                return
            status = [{"SerialNo": "s-1", "PhoneNumber": p,
                       "Code": "InvalidParameterValue.IncorrectPhoneNumber" if p.endswith("0000") else "Ok",
                       "Message": f"send {p}"} for p in phones]
            self.answer(200, {"Response": {"SendStatusSet": status, "RequestId": "r-1"}})

        def do_GET(self):  # Aliyun
            url = urlsplit(self.path)
            params = dict(parse_qsl(url.query, keep_blank_values=True))
            given = params.pop("Signature", "")
            verified = (params.get("AccessKeyId") == sink.key_id
                        and params.get("SignatureMethod") == "HMAC-SHA1"
                        and params.get("Action") == "SendSms"
                        and hmac.compare_digest(given, aliyun_signature(sink.secret, params)))
            try:
                tp = json.loads(params.get("TemplateParam", "{}"))
            except ValueError:
                tp = {}
            phone = params.get("PhoneNumbers", "")
            sink.write({"provider": "aliyun", "verified": verified, "phones": [phone],
                        "template": params.get("TemplateCode"), "params": list(tp.values()),
                        "sign_name": params.get("SignName"), "raw": self.path})
            if not verified:
                self.answer(400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched"})
            elif phone.endswith("0000"):
                self.answer(200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": f"bad {phone}"})
            else:
                self.answer(200, {"Code": "OK", "Message": "OK", "BizId": "b-1", "RequestId": "r-1"})

    return H


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--key-id", required=True)
    ap.add_argument("--secret", required=True)
    a = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(Sink(a.record, a.key_id, a.secret)))
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(a.port_file + ".tmp", a.port_file)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
