"""documents.formats through documents_from_bytes: text decoding, HTML visible text, PDF, DOCX, binary sniffing."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sample_files import blank_pdf, encrypted_pdf, make_docx, make_pdf, make_zip, messages

from provenance.documents import Document, decode_text, documents_from_bytes, html_to_text
from provenance.documents.formats import visible_text_layout

def test_plain_text_and_markdown():
    docs, errors = documents_from_bytes("a.txt", "Hello world.\n".encode())
    assert errors == [] and docs == [Document("a.txt", "Hello world.\n")]
    docs, errors = documents_from_bytes("notes.MD", b"# Title\n\nBody")
    assert errors == [] and docs[0].text == "# Title\n\nBody"


def test_utf8_bom_and_utf16_are_decoded():
    assert documents_from_bytes("a.txt", b"\xef\xbb\xbfHello")[0][0].text == "Hello"
    assert documents_from_bytes("a.txt", "Grüße".encode("utf-16"))[0][0].text == "Grüße"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_detected_not_refused_as_binary(encoding):
    text = "Hello world, this is plain English text saved as UTF-16 without a byte-order mark.\n" * 3
    docs, errors = documents_from_bytes("a.txt", text.encode(encoding))
    assert errors == [] and docs[0].text == text
    table = 'id,text\n1,"Grüße aus Köln, in a table"\n'
    docs, errors = documents_from_bytes("t.csv", table.encode(encoding))
    assert errors == [] and [d.text for d in docs] == ["Grüße aus Köln, in a table"]
    assert decode_text("Ελληνικά και English μαζί. ".encode(encoding), "g.txt") == "Ελληνικά και English μαζί. "


def test_non_utf8_encoding_is_detected_not_refused():
    text = "Les élèves étudiaient à l'école près de la forêt, où l'été était très chaud. " * 4
    docs, errors = documents_from_bytes("fr.txt", text.encode("cp1252"))
    assert errors == []
    assert docs[0].text == text
    cyrillic = "Привет, как дела? Это простой русский текст для проверки кодировки. " * 4
    docs, errors = documents_from_bytes("ru.txt", cyrillic.encode("cp1251"))
    assert errors == [] and docs[0].text == cyrillic


def test_html_keeps_visible_text_only():
    page = (b"<!doctype html><html><head><title>Tab title</title><style>body{color:red}</style>"
            b"<script>alert('x')</script></head><body><h1>Heading</h1><p>First &amp; <b>bold</b> words."
            b"<!-- a comment --></p><noscript>enable js</noscript><p>Second\n   paragraph.</p>"
            b"<script type='text/javascript'>var hidden = 1;</script></body></html>")
    docs, errors = documents_from_bytes("page.html", page)
    assert errors == []
    text = docs[0].text
    assert "Heading" in text and "First & bold words." in text and "Second paragraph." in text
    for hidden in ("alert", "color:red", "Tab title", "a comment", "var hidden", "enable js"):
        assert hidden not in text
    assert text.index("Heading") < text.index("First") < text.index("Second")


def test_html_without_closing_head_still_shows_body():
    assert html_to_text("<html><head><title>t</title><body><p>Visible body") == "Visible body"


def test_html_without_visible_text_is_an_error():
    docs, errors = documents_from_bytes("empty.htm", b"<html><script>x()</script><style>a{}</style></html>")
    assert docs == [] and "no visible text" in messages(errors)


def test_pdf_text_layer_is_extracted():
    docs, errors = documents_from_bytes("paper.pdf", make_pdf(["Hello from page one.", "And page two."]))
    assert errors == []
    assert "Hello from page one." in docs[0].text and "And page two." in docs[0].text


def test_pdf_without_text_layer_is_explained():
    docs, errors = documents_from_bytes("scan.pdf", blank_pdf())
    assert docs == []
    assert "no text layer" in messages(errors) and "OCR" in messages(errors)


def test_password_protected_pdf_is_explained():
    docs, errors = documents_from_bytes("secret.pdf", encrypted_pdf("Confidential words.", "hunter2"))
    assert docs == [] and "password" in messages(errors)


def test_pdf_with_only_an_owner_password_opens():
    docs, errors = documents_from_bytes("restricted.pdf", encrypted_pdf("Readable words.", ""))
    assert errors == [] and "Readable words." in docs[0].text


@pytest.mark.parametrize("data", [b"%PDF-1.4\n garbage", b"not a pdf at all", make_pdf(["Hi there"])[:60]])
def test_corrupt_pdf_is_explained(data):
    docs, errors = documents_from_bytes("broken.pdf", data)
    assert docs == [] and len(errors) == 1
    assert "damaged" in errors[0].message or "no text layer" in errors[0].message


def test_docx_paragraphs_and_tables():
    data = make_docx(["First paragraph.", "Second paragraph."], table=[["cell one", "cell two"]])
    docs, errors = documents_from_bytes("letter.docx", data)
    assert errors == []
    text = docs[0].text
    assert "First paragraph." in text and "Second paragraph." in text and "cell one\tcell two" in text


@pytest.mark.parametrize("data", [b"PK\x03\x04 truncated", b"plain text pretending", make_zip({"a.txt": b"x"})])
def test_corrupt_docx_is_explained(data):
    docs, errors = documents_from_bytes("broken.docx", data)
    assert docs == [] and len(errors) == 1
    assert "damaged or not a Word .docx" in errors[0].message


def test_empty_docx_is_explained():
    docs, errors = documents_from_bytes("blank.docx", make_docx([]))
    assert docs == [] and "no text" in messages(errors)



@pytest.mark.parametrize("data", [b"", b"   \n\t  ", b"\xef\xbb\xbf"])
def test_empty_files_are_explained(data):
    docs, errors = documents_from_bytes("empty.txt", data)
    assert docs == [] and len(errors) == 1 and "empty" in errors[0].message


@pytest.mark.parametrize("data,word", [
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "PNG image"),
    (b"\x7fELF\x02\x01\x01" + bytes(200), "program"),
    (bytes(range(256)) * 4, "binary"),
    (b"\x00\x01\x02\x03binary\x00\xff\xfe\x00" * 30, "binary"),
])
def test_binary_files_are_explained(data, word):
    docs, errors = documents_from_bytes("data.txt", data)
    assert docs == [] and len(errors) == 1 and word in errors[0].message



def test_decode_text_raises_value_error_only():
    with pytest.raises(ValueError, match="empty"):
        decode_text(b"", "x")
    assert decode_text("café".encode(), "x") == "café"


# ---------------------------------------------------------------------------------------------------- HTML layout

PAGE = ("<!doctype html><html><head><title>Page title. Hidden.</title><style>p {color: red}</style></head>\n"
        "<body class='x'><p>First sentence. Second &amp; third one.</p>\n"
        "<svg viewBox='0 0 10 10'><text x='1'>Chart label. Axis name.</text></svg>\n"
        "<pre>code. more code.</pre><p>Last words here.</p><script>var s = 'no. text.';</script></body></html>")


def test_visible_text_layout_locates_what_html_to_text_shows():
    layout = visible_text_layout(PAGE)
    texts = [PAGE[a:b] for a, b in layout.segments]
    assert texts == ["First sentence. Second ", " third one.", "code. more code.", "Last words here."]
    assert PAGE[layout.body_start - len("<body class='x'>"): layout.body_start] == "<body class='x'>"
    assert PAGE[layout.body_end:].startswith("</body>")
    assert {"svg", "script", "title", "math"} <= layout.hidden_tags
    shown = html_to_text(PAGE)
    assert all(t.strip() in shown for t in texts)
    assert "Chart label" not in shown and "Page title" not in shown
    prose = visible_text_layout(PAGE, exclude={"head", "pre", "code", "textarea"})
    assert [PAGE[a:b] for a, b in prose.segments] == ["First sentence. Second ", " third one.", "Last words here."]
    assert prose.hidden_tags == layout.hidden_tags | {"head", "pre", "code", "textarea"}


def test_an_identifier_placed_in_visible_text_next_to_svg_text_is_found_again():
    """What ghost embedding needs: every sentence end it may choose is inside text a reader of the page sees, so
    the marked file read back (html_to_text, as every upload is read) still holds the identifier. Text inside
    <svg> is on the page's source next to the prose but never shown, so it offers no place."""
    html = ("<html><body><p>Intro sentence. </p><svg><text>Inside the drawing. Another label.</text></svg>"
            "<p>After the drawing. End.</p></body></html>")
    identifier = "velvet quantum harbor 4821"
    layout = visible_text_layout(html, exclude={"head", "pre", "code", "textarea"})
    ends = [a + m.end() for a, b in layout.segments for m in re.finditer(r"[.!?](?=\s|$)", html[a:b])]
    assert ends and not any(html.index("<svg>") < e < html.index("</svg>") for e in ends)
    for at in ends:
        marked = html[:at] + " " + identifier + html[at:]
        assert identifier in html_to_text(marked), (at, marked)
    # the same identifier placed inside the svg text (as a parser that hides fewer tags would) vanishes
    inside = html.index("drawing.") + len("drawing.")
    assert identifier not in html_to_text(html[:inside] + " " + identifier + html[inside:])
    # a page without </head> keeps its body text
    open_head = "<html><head><meta charset='utf-8'><body><p>Body text. More.</p></body></html>"
    assert [open_head[a:b] for a, b in visible_text_layout(open_head, exclude={"head"}).segments] == \
        ["Body text. More."]


_FRAGMENTS = ["alpha", "Beta.", "gamma delta!", " ", "\n", "\u00a0", "<br>", "<br/>", "<svg/>", "<!-- note -->",
              "<hr>", "</p>", "</svg>", "</div>", "ümlaut.", "x<y"]
_TAGS = ["p", "div", "b", "span", "svg", "script", "style", "title", "math", "iframe", "object", "template",
         "noscript", "pre", "textarea", "li", "code", "head", "body", "h1"]
_html_pages = st.recursive(st.lists(st.sampled_from(_FRAGMENTS), max_size=4).map("".join),
                           lambda inner: st.tuples(st.sampled_from(_TAGS), st.lists(inner, max_size=3),
                                                   st.booleans()).map(
                               lambda t: f"<{t[0]}>{''.join(t[1])}" + (f"</{t[0]}>" if t[2] else "")),
                           max_leaves=12)


@given(pages=st.lists(_html_pages, min_size=1, max_size=4).map("".join))
@settings(max_examples=300, deadline=None)
def test_layout_segments_hold_exactly_the_text_html_to_text_shows(pages):
    """Generated pages of nested shown and hidden tags: the segments hold the same non-space characters that
    html_to_text shows, and text inserted anywhere inside a segment (or at its end) is shown."""
    layout = visible_text_layout(pages)
    located = "".join(pages[a:b] for a, b in layout.segments)
    assert re.sub(r"\s", "", located) == re.sub(r"\s", "", html_to_text(pages))
    for a, b in layout.segments:
        assert pages[a:b].strip()
        for at in range(a + 1, b + 1):  # strictly inside the segment or at its end
            marked = pages[:at] + " QQmarkQQ" + pages[at:]
            assert "QQmarkQQ" in html_to_text(marked), (pages, pages[a:b], at - a)
