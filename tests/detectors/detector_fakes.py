"""Deterministic, obviously fake but format-valid secret values for examples, tests and the corpus.

Every value is generated from a fixed seed and most carry FAKE in a visible place, so none
is a real credential. Identifiable Azure keys get a valid checksum so the catalogue's
offline checksum validators accept them.
"""

from __future__ import annotations

import base64
import json
import random
import string
from urllib.parse import quote

from kvlint.detectors import checksums

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"


def _rng(name: str) -> random.Random:
    return random.Random(f"kvlint-fake-{name}")


def rand(name: str, alphabet: str, length: int) -> str:
    rng = _rng(name)
    return "".join(rng.choice(alphabet) for _ in range(length))


def b64_key(name: str, nbytes: int, prefix: str = "FAKE") -> str:
    rng = _rng(name)
    text = base64.b64encode(bytes(rng.randrange(256) for _ in range(nbytes))).decode()
    return prefix + text[len(prefix):]


def identifiable(name: str, signature: str, nbytes: int, *, url_safe: bool = False, alnum_only: bool = False) -> str:
    rng = _rng(name)
    seed = checksums.SEEDS[signature][0]
    for _ in range(10000):
        body = bytes(rng.randrange(256) for _ in range(nbytes))
        key = checksums.make_identifiable_key(body, signature, seed, url_safe=url_safe)
        if alnum_only and not key.rstrip("=").replace(signature, "").isalnum():
            continue
        return key
    raise RuntimeError("no key")


def common_annotated(name: str, provider: str) -> str:
    rng = _rng(name)
    for _ in range(10000):
        key = checksums.make_common_annotated_key(bytes(rng.randrange(256) for _ in range(60)), provider)
        if key.isalnum():
            return key
    raise RuntimeError("no key")


def jwt(name: str, exp: int = 4102444800) -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")
    header = part({"alg": "HS256", "typ": "JWT"})
    payload = part({"sub": "fake-user-" + name, "exp": exp})
    return f"{header}.{payload}.{rand(name, B64URL, 43)}"


def crc32_token(name: str, prefix: str) -> str:
    """GitHub / npm layout: prefix, FAKE + 26 random base62, the base62 CRC32 of those 30."""
    return checksums.make_crc32_token(prefix, "FAKE" + rand(name, ALNUM, 26))


def pem_body(name: str, nbytes: int = 300) -> list[str]:
    text = b64_key(name, nbytes, prefix="MIIFAKE")
    return [text[i:i + 64] for i in range(0, len(text), 64)]


def values() -> dict[str, str]:
    v: dict[str, str] = {}
    v["STORAGE_KEY"] = b64_key("storage", 64)
    v["STORAGE_KEY2"] = b64_key("storage2", 64)
    v["SAS_SIG"] = quote(b64_key("sas", 32), safe="")
    v["SAS_SIG2"] = quote(b64_key("sas2", 32), safe="")
    v["ENTRA"] = "Fk3" + "8Q~" + "FAKE" + rand("entra", ALNUM + "_~.-", 30)
    v["ENTRA2"] = "zQ9" + "8Q~" + rand("entra2", ALNUM + "_~.-", 34)
    v["SB_KEY"] = b64_key("sb", 32)
    v["EH_KEY"] = b64_key("eh", 32)
    v["IOT_KEY"] = b64_key("iot", 32)
    v["COSMOS_KEY"] = b64_key("cosmos", 64)
    v["APPCONFIG_SECRET"] = b64_key("appconfig", 32)
    v["REDIS_KEY"] = b64_key("redis", 32)
    v["ADO_PAT"] = rand("ado", "abcdefghijklmnopqrstuvwxyz234567", 52)
    v["ADO_PAT2"] = rand("ado2", "abcdefghijklmnopqrstuvwxyz234567", 52)
    func_rng = _rng("func")
    v["FUNC_KEY"] = "FAKE" + base64.urlsafe_b64encode(bytes(func_rng.randrange(256) for _ in range(40))).decode()[4:]
    v["ACR_PASSWORD"] = b64_key("acr", 24)
    v["COG_KEY"] = rand("cog", "0123456789abcdef", 32)
    v["OPENAI_KEY"] = rand("openai", "0123456789abcdef", 32)
    v["SEARCH_KEY"] = rand("search", ALNUM, 52)
    v["MAPS_KEY"] = rand("maps", B64URL, 43)
    v["ID_STORAGE"] = identifiable("id-storage", "+ASt", 64)
    v["ID_COSMOS"] = identifiable("id-cosmos", "ACDb", 64)
    v["ID_SB"] = identifiable("id-sb", "+ASb", 32)
    v["ID_EH"] = identifiable("id-eh", "+AEh", 32)
    v["ID_RELAY"] = identifiable("id-relay", "+ARm", 32)
    v["ID_IOT"] = identifiable("id-iot", "AIoT", 32)
    v["ID_FUNC"] = identifiable("id-func", "AzFu", 40, url_safe=True)
    v["ID_SEARCH"] = identifiable("id-search", "AzSe", 39, alnum_only=True)
    v["ID_ACR"] = identifiable("id-acr", "+ACR", 39)
    v["ID_APIM"] = identifiable("id-apim", "APIM", 64)
    v["ID_REDIS"] = identifiable("id-redis", "AzCa", 32)
    v["ID_BATCH"] = identifiable("id-batch", "+ABa", 64)
    v["ID_EG"] = identifiable("id-eg", "AZEG", 32)
    v["CASK_ADO"] = common_annotated("cask-ado", "AZDO")
    v["CASK_COG"] = common_annotated("cask-cog", "ACOG")
    v["GITHUB"] = crc32_token("gh", "ghp_")
    v["GITHUB_PAT"] = "github_pat_" + "11FAKE" + rand("ghpat", ALNUM, 16) + "_" + rand("ghpat2", ALNUM, 59)
    v["GITLAB"] = "glpat-" + "FAKE" + rand("gl", ALNUM + "-_", 16)
    v["SLACK"] = "xoxb-" + "1234567890123-1234567890123-" + "FAKE" + rand("slack", ALNUM, 20)
    v["SLACK_HOOK"] = "T0FAKE123/B0FAKE456/" + "FAKE" + rand("slackhook", ALNUM, 20)
    v["STRIPE"] = "sk_live_" + "FAKE" + rand("stripe", ALNUM, 20)
    v["STRIPE_TEST"] = "sk_test_" + "FAKE" + rand("stripetest", ALNUM, 20)
    v["NPM"] = crc32_token("npm", "npm_")
    v["PYPI"] = "pypi-AgEIcHlwaS5vcmc" + rand("pypi", B64URL, 70)
    v["OPENAI_SK"] = "sk-proj-" + "FAKE" + rand("oai1", ALNUM, 40) + "T3BlbkFJ" + rand("oai2", ALNUM, 40)
    v["SENDGRID"] = "SG." + rand("sg1", B64URL, 22) + "." + rand("sg2", B64URL, 43)
    v["AWS_ID"] = "AKIA" + "FAKE" + rand("awsid", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 12)
    v["AWS_SECRET"] = "FAKE" + rand("awssecret", B64, 36)
    v["GOOGLE_API"] = "AIza" + "FAKE" + rand("gapi", B64URL, 31)
    v["JWT"] = jwt("a")
    v["JWT_EXPIRED"] = jwt("b", exp=946684800)
    v["DB_PASSWORD"] = "FakeP@ssw0rd-" + rand("dbpw", ALNUM, 6)
    v["URL_PASSWORD"] = "Fake" + rand("urlpw", ALNUM, 10) + "9x"
    v["GENERIC_PASSWORD"] = "Fake-" + rand("genpw", ALNUM, 8) + "!7"
    v["GENERIC_TOKEN"] = "fake" + rand("gentok", "0123456789abcdef", 36)
    pem = pem_body("pem")
    v["PEM_LINES"] = "\n".join(pem)
    v["PEM_ESCAPED"] = "\\n".join(pem)
    return v
