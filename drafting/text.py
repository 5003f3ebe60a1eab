"""Text as people give it: decoded from uploaded bytes, cleaned of what no draft should carry,
and the error whose Chinese message is shown to them as is. A leaf: the request stage, the
user's uploaded summaries and the faces all start here.
"""
from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")


class RequestError(ValueError):
    """Bad user input. The message is Chinese and meant to be shown as is."""


def clean_text(text: str) -> str:
    """Normalise Unicode (NFC), drop control and zero-width characters, unify line ends."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)


def decode_bytes(data: bytes) -> str:
    """Decode uploaded bytes as UTF-8 (with or without BOM), then GB18030; refuse binary."""
    if b"\x00" in data[:4096]:
        raise RequestError("文件看起来不是文本（含有二进制内容），请粘贴或上传纯文本的要点。")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise RequestError("无法识别文件编码，请另存为 UTF-8 文本后再试。")
