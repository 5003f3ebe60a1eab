"""What a clerk hands in: the checked draft as .docx (公文 layout from a replaceable template),
PDF (that .docx laid out by LibreOffice) or Markdown, every finding of the check carried along."""
from drafting.export.layout import Block, blocks
from drafting.export.markdown import to_markdown
from drafting.export.pdf import PdfUnavailable, pdf_note, to_pdf
from drafting.export.word import CLAIM_COLOUR, FONT_NOTE, MARK_COLOUR, to_docx

__all__ = ["CLAIM_COLOUR", "FONT_NOTE", "MARK_COLOUR", "Block", "PdfUnavailable", "blocks", "pdf_note", "to_docx",
           "to_markdown", "to_pdf"]
