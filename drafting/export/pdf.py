"""The draft as PDF: the .docx (same template, same marks) laid out by LibreOffice, offline, with
the 公文 fonts resolved through `data/fonts.conf` (a 仿宋/楷 family when present, else Debian's
AR PL faces, else Noto CJK). Many offices upload PDF to their OA systems, and a PDF looks the
same on every computer, which a .docx does not when the recipient lacks the fonts."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

from drafting.export.template import FONTS

FONTS_CONF = Path(__file__).with_name("data") / "fonts.conf"
_CONVERT_TIMEOUT_S = 180
NO_ENGINE = ("服务器上没有安装 LibreOffice，暂不能导出 PDF；请导出 Word 文档，"
             "或请管理员安装 Debian 的 libreoffice-writer-nogui。")


class PdfUnavailable(RuntimeError):
    """The server cannot make PDF (LibreOffice missing or failing); the message is for the user."""


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        raise PdfUnavailable(NO_ENGINE)
    return found


def available() -> str | None:
    """None when this server can make PDF; else why not, for the user."""
    return None if shutil.which("soffice") or shutil.which("libreoffice") else NO_ENGINE


def to_pdf(docx: bytes) -> bytes:
    """The .docx bytes laid out as PDF. Each call has its own LibreOffice profile, so that
    conversions from several threads or processes do not share one."""
    soffice = _soffice()
    with tempfile.TemporaryDirectory(prefix="drafting-pdf-") as tmp:
        source = Path(tmp) / "draft.docx"
        source.write_bytes(docx)
        env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF), "HOME": tmp}
        try:
            done = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--norestore",
                                   "--convert-to", "pdf", "--outdir", tmp, str(source)],
                                  env=env, capture_output=True, timeout=_CONVERT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise PdfUnavailable(f"PDF 排版超过 {_CONVERT_TIMEOUT_S} 秒仍未完成，请稍后重试或导出 Word 文档。") from None
        result = Path(tmp) / "draft.pdf"
        if done.returncode or not result.is_file():
            raise PdfUnavailable("PDF 排版失败，请稍后重试或导出 Word 文档。")
        return result.read_bytes()


@lru_cache(maxsize=1)
def substitutions() -> dict[str, str]:
    """For each 公文 font, the font the PDF is set in on this server."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return {}
    env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)}
    found = {}
    for font in FONTS:
        done = subprocess.run([fc_match, "-f", "%{family[0]}", font], env=env, capture_output=True, text=True)
        found[font] = done.stdout.strip() or "?"
    return found


def pdf_note() -> str:
    """What the user should know about the PDF's fonts."""
    used = [f"{font}→{face}" for font, face in substitutions().items() if face != font]
    if not used:
        return "PDF 按公文格式排版，字体与 Word 文档相同。"
    return ("PDF 按公文格式排版；本服务器没有的公文字体用相近字体代替（" + "，".join(used) + "）。"
            "需要正式字体时，请管理员把字体文件放到服务器的字体目录。")
