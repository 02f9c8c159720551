"""Word-level redlines between two renderings of the Privacy Policy.

The diff runs block by block (headings, paragraphs, list items, definitions) and then word by word
inside a changed block, so an inserted sentence is marked as one run in its own paragraph instead
of being smeared across its neighbours, as a diff over the whole text would do.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from html import escape

from lxml import html as lxml_html

#: Elements whose text is one unit of the diff.
BLOCKS = {"h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "dt", "dd", "pre"}
#: What a block inside each container is written as (a loose list item's paragraph is the item).
ITEMS = {"ul": {"li"}, "ol": {"li"}, "dl": {"dt", "dd"}}
#: A changed block is diffed word by word when this similar; below it, shown replaced whole.
SIMILAR = 0.5
#: The class of what a page adds around the text (the build's notices); left out of the diff,
#: as are the headings' permalinks.
NOTICE = "cc-notice"
_NOT_TEXT = f'//*[contains(concat(" ", @class, " "), " {NOTICE} ") or @class="headerlink"]'


@dataclass(frozen=True)
class Block:
    tag: str
    container: str
    text: str
    html: str


def _inner_html(element: lxml_html.HtmlElement) -> str:
    text = escape(element.text or "", quote=False)
    children = (lxml_html.tostring(child, encoding="unicode") for child in element)
    return text + "".join(children)


def _walk(element: lxml_html.HtmlElement, container: str) -> Iterator[Block]:
    tag = element.tag if isinstance(element.tag, str) else ""
    nested = [child for child in element.iter() if child is not element and child.tag in BLOCKS]
    if tag in BLOCKS and not nested:
        text = " ".join(element.text_content().split())
        if text:
            yield Block(tag, container, text, _inner_html(element))
        return
    if tag in BLOCKS and element.text and element.text.strip():
        yield Block(tag, container, " ".join(element.text.split()), escape(element.text.strip()))
    for child in element:
        yield from _walk(child, tag if tag in {"ul", "ol", "dl"} else container)


def blocks(rendered: str) -> list[Block]:
    """The blocks of an HTML fragment, in reading order, without notices and permalinks."""
    root = lxml_html.fragment_fromstring(rendered, create_parent="div")
    for element in root.xpath(_NOT_TEXT):
        element.drop_tree()
    return list(_walk(root, ""))


def _words(old: str, new: str) -> str:
    before, after = old.split(), new.split()
    out: list[str] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape(" ".join(before[i1:i2]), quote=False))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(' '.join(before[i1:i2]), quote=False)}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(' '.join(after[j1:j2]), quote=False)}</ins>")
    return " ".join(out)


def _changed(old: list[Block], new: list[Block]) -> Iterator[tuple[Block, str]]:
    """Pair the blocks of a changed run: similar ones word by word, the rest whole."""
    for index in range(max(len(old), len(new))):
        before = old[index] if index < len(old) else None
        after = new[index] if index < len(new) else None
        if before and after and before.tag == after.tag:
            ratio = SequenceMatcher(None, before.text.split(), after.text.split()).ratio()
            if ratio >= SIMILAR:
                yield after, _words(before.text, after.text)
                continue
        if before:
            yield before, f"<del>{before.html}</del>"
        if after:
            yield after, f"<ins>{after.html}</ins>"


def _marked(old: list[Block], new: list[Block]) -> Iterator[tuple[Block, str]]:
    matcher = SequenceMatcher(
        None, [(b.tag, b.text) for b in old], [(b.tag, b.text) for b in new], autojunk=False
    )
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            yield from ((block, block.html) for block in new[j1:j2])
        else:
            yield from _changed(old[i1:i2], new[j1:j2])


def _output_tag(block: Block) -> str:
    """Headings one level down, so the policy's title sits under the redline page's own."""
    if block.container and block.tag not in ITEMS[block.container]:
        return "dd" if block.container == "dl" else "li"
    if block.tag[0] == "h" and block.tag[1:].isdigit():
        return f"h{min(int(block.tag[1]) + 1, 6)}"
    return block.tag


def redline(old_html: str, new_html: str) -> str:
    """HTML of ``new_html`` with ``<ins>`` and ``<del>`` marking what changed from ``old_html``."""
    out: list[str] = []
    open_container = ""
    for block, content in _marked(blocks(old_html), blocks(new_html)):
        if block.container != open_container:
            if open_container:
                out.append(f"</{open_container}>")
            if block.container:
                out.append(f"<{block.container}>")
            open_container = block.container
        tag = _output_tag(block)
        out.append(f"<{tag}>{content}</{tag}>")
    if open_container:
        out.append(f"</{open_container}>")
    return "\n".join(out)
