"""Offline checksum validation of Microsoft's identifiable keys (no network, ever).

Microsoft's newer Azure keys embed a 4-character signature (`+ASt`, `AzFu`, `JQQJ99`...)
and a Marvin32 checksum of the preceding bytes, seeded per key kind. Recomputing that
checksum tells a real key from a string that merely looks like one. The algorithm and the
seeds are public (microsoft/security-utilities, MIT); this is an independent port.
"""

from __future__ import annotations

import base64
import binascii
import struct

_MASK = 0xFFFFFFFF


def _rotl(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (32 - bits))) & _MASK


def _block(p0: int, p1: int) -> tuple[int, int]:
    p1 ^= p0
    p0 = _rotl(p0, 20)
    p0 = (p0 + p1) & _MASK
    p1 = _rotl(p1, 9)
    p1 ^= p0
    p0 = _rotl(p0, 27)
    p0 = (p0 + p1) & _MASK
    p1 = _rotl(p1, 19)
    return p0, p1


def marvin32(data: bytes, seed: int) -> int:
    """Marvin32 hash of `data` folded to a signed 32-bit int, as .NET's Marvin.ComputeHash32."""
    p0 = seed & _MASK
    p1 = (seed >> 32) & _MASK
    length = len(data)
    full = length - length % 4
    for (word,) in struct.iter_unpack("<I", data[:full]):
        p0 = (p0 + word) & _MASK
        p0, p1 = _block(p0, p1)
    # final partial word: the remaining 0..3 bytes followed by 0x80, little-endian
    rest = data[full:]
    final = int.from_bytes(rest, "little") | (0x80 << (8 * len(rest)))
    p0 = (p0 + final) & _MASK
    p0, p1 = _block(p0, p1)
    p0, p1 = _block(p0, p1)
    result = p0 ^ p1
    return result - (1 << 32) if result & 0x80000000 else result


def his_v1_seed(name: str) -> int:
    """Checksum seed from an 8-character versioned literal such as 'Default0'."""
    return int.from_bytes(name.encode("ascii"), "big")


# Signature -> checksum seeds, from IdentifiableMetadata.cs.
_MESSAGING = (0x53656E6430303030, 0x4C697374656E3030, 0x4D616E6167653030, 0x53797374656D3030)
SEEDS: dict[str, tuple[int, ...]] = {
    "+ASt": (0x44656661756C7430,),  # storage account
    "ACDb": (0x4D617374524F3030, 0x4D61737452573030, 0x537973416C6C3030, 0x53797374524F3030,
             0x5379737452573030, 0x5265736F75723030),  # Cosmos DB
    "+ASb": _MESSAGING,  # Service Bus
    "+AEh": _MESSAGING,  # Event Hubs
    "+ARm": _MESSAGING,  # Relay
    "AIoT": (0x496F544875623030, 0x4470734B65793030, 0x4465766963653030),  # IoT Hub, DPS, device
    "AzFu": (0x46756E6374693030, 0x4D61737465723030, 0x53797374656D3030),  # Functions
    "AzSe": (0x5175657279303030, 0x5041646D696E3030),  # AI Search query, admin
    "+ACR": (0x41435244666C7430,),  # Container Registry
    "APIM": (0x54656E616E743030, 0x496F544875623030, 0x4761746577793030, 0x4769744B65793030),
    "AzCa": (0x4163636573733030,),  # Cache for Redis
    "+ABa": (0x4162416363743030,),  # Batch
    "AZEG": (his_v1_seed("Default0"),),  # Event Grid
    "+AMC": (0x436C617373696330,),  # Machine Learning classic
}

KIND_BY_SIGNATURE = {
    "+ASt": "Azure Storage account key",
    "ACDb": "Azure Cosmos DB key",
    "+ASb": "Azure Service Bus key",
    "+AEh": "Azure Event Hubs key",
    "+ARm": "Azure Relay key",
    "AIoT": "Azure IoT Hub / DPS / device key",
    "AzFu": "Azure Functions key",
    "AzSe": "Azure AI Search key",
    "+ACR": "Azure Container Registry key",
    "APIM": "Azure API Management key",
    "AzCa": "Azure Cache for Redis key",
    "+ABa": "Azure Batch key",
    "AZEG": "Azure Event Grid key",
    "+AMC": "Azure Machine Learning (classic) key",
}

COMMON_ANNOTATED_SEED = his_v1_seed("Default0")


def _decode(key: str) -> bytes | None:
    text = key.replace("-", "+").replace("_", "/").rstrip("=")
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def signature_of(key: str) -> str | None:
    """The 4-character signature just before the 6-character checksum, if it is a known one."""
    trimmed = key.rstrip("=")
    if len(trimmed) < 10:
        return None
    signature = trimmed[-10:-6]
    return signature if signature in SEEDS else None


def checksum_matches(key: str, seeds: tuple[int, ...]) -> bool:
    """True when the last 4 decoded bytes are the Marvin32 checksum of the rest under a seed."""
    data = _decode(key)
    if data is None or len(data) < 8:
        return False
    (expected,) = struct.unpack("<i", data[-4:])
    body = data[:-4]
    return any(marvin32(body, seed) == expected for seed in seeds)


def valid_identifiable_key(key: str) -> bool:
    signature = signature_of(key)
    return signature is not None and checksum_matches(key, SEEDS[signature])


def valid_common_annotated_key(key: str) -> bool:
    """84-character common annotated security key (`JQQJ99` / `JQQJ9D`)."""
    if len(key) == 88:
        return checksum_matches(key, (COMMON_ANNOTATED_SEED,))
    if len(key) != 84:
        return False
    data = _decode(key[:80])
    if data is None:
        return False
    checksum = struct.pack("<i", marvin32(data, COMMON_ANNOTATED_SEED))
    return base64.b64encode(checksum[:3]).decode("ascii") == key[80:]


def make_identifiable_key(body: bytes, signature: str, seed: int, url_safe: bool = False) -> str:
    """Build a key of Microsoft's layout around `body` (used to generate fake test keys).

    `body` is the key's bytes; its last 7 are overwritten by the signature and checksum.
    Mirrors GenerateKeyWithAppendedSignatureAndChecksum in IdentifiableSecrets.cs.
    """
    data = bytearray(body)
    sig_offset = len(data) - 8
    padding = ((len(data) - 7) * 8) % 6
    sig_bytes = base64.b64decode(signature.replace("-", "+").replace("_", "/"))
    word = data[sig_offset] << 24
    if padding == 2:
        word &= 0xFCFFFFFF
    elif padding == 4:
        word &= 0xF0FFFFFF
    word |= sig_bytes[0] << (16 + padding)
    word |= sig_bytes[1] << (8 + padding)
    word |= sig_bytes[2] << padding
    data[sig_offset:sig_offset + 4] = word.to_bytes(4, "big")
    data[-4:] = struct.pack("<i", marvin32(bytes(data[:-4]), seed))
    text = base64.b64encode(bytes(data)).decode("ascii")
    return text.replace("+", "-").replace("/", "_") if url_safe else text


def make_common_annotated_key(body: bytes, provider_signature: str) -> str:
    """Build an 84-character common annotated key (JQQJ99) around 60 bytes of `body`."""
    random_part = base64.b64encode(body[:39]).decode("ascii")  # 52 characters
    # layout: 52 random, JQQJ99, year (A = 2024), month (A-L), 16 reserved, 4 provider signature
    text = random_part + "JQQJ99" + "EB" + "A" * 16 + provider_signature
    data = base64.b64decode(text)
    checksum = struct.pack("<i", marvin32(data, COMMON_ANNOTATED_SEED))
    return text + base64.b64encode(checksum[:3]).decode("ascii")


# --- CRC32 + base62 checksums: GitHub (ghp_, gho_, ghu_, ghs_, ghr_) and npm (npm_) tokens -------
#
# Those tokens are a prefix, 30 random base62 characters and 6 characters that encode the CRC32
# of the random part in base62 (digits, then upper case, then lower case), left-padded with '0'.
# Published by GitHub ("Behind GitHub's new authentication token formats", 2021); npm reuses it.

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(number: int, width: int = 6) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = BASE62[rest] + digits
    return digits.rjust(width, "0")


def crc32_base62_matches(token: str, prefix_length: int = 4) -> bool:
    """True when the last 6 characters are the base62 CRC32 of the characters between prefix and them."""
    body, checksum = token[prefix_length:-6], token[-6:]
    if len(body) < 1 or not body.isascii() or not body.isalnum():
        return False
    return base62(binascii.crc32(body.encode("ascii"))) == checksum


def make_crc32_token(prefix: str, body: str) -> str:
    """A token of GitHub's / npm's layout around `body` (for fake test values only)."""
    return prefix + body + base62(binascii.crc32(body.encode("ascii")))
