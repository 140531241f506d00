"""Words follow the numbers: a comparative sentence about the book's own results is backed
by a computation on its page.

A sentence of a page's prose that compares (more, less, faster, ahead, reproduces, less
sensitive, …) and pastes a computed value (a ``{glue:...}`` role) must either paste the
comparative word itself (a glued text: the cell computed the word), or paste at least one
value that a cell asserting something glued (the comparison is an ``assert`` of that cell,
or by the code cell right after it, so a run where it no longer holds fails). Sentences about a source ({cite} roles, no glue)
state the source, not the book; exercises, hints and solutions ask the reader to measure.
"""

import json
import pathlib
import re

import pytest

BOOK = pathlib.Path(__file__).parents[1] / "book"
PAGES = sorted(p.stem for p in BOOK.glob("*.ipynb"))
COMPARATIVE = re.compile(
    r"\b(more|less|fewer|faster|slower|ahead|behind|better|worse|lower|higher|larger|smaller"
    r"|reproduces?|outperforms?|beats?|sensitive|cheaper|dearer|overtakes?)\b", re.I)
GLUE = re.compile(r"\{glue(?::\w+)?\}`([A-Za-z0-9_]+)")
DIRECTIVE = re.compile(r"^:::\{(exercise|hint|solution)\}.*?^:::", re.M | re.S)


def sentences(text):
    """The sentences of a Markdown cell's paragraphs; exercises with their hints and
    solutions, display math, headings and table rows left out."""
    text = re.sub(r"\$\$.*?\$\$", " ", DIRECTIVE.sub("", text), flags=re.S)
    found = []
    for paragraph in re.split(r"\n\s*\n|\n(?=\s*(?:[-*]|\d+\.)\s)", text):  # list items apart
        lines = [line for line in paragraph.splitlines()
                 if line.strip() and not line.lstrip().startswith(("#", "|", ":::"))]
        joined = " ".join(line.strip() for line in lines)
        found += [s for s in re.split(r"(?<=[.!?:])\s+(?=[A-Z*(])", joined) if s]
    return found


def glue_sources(cells):
    """{glue name: (the gluing cell asserts, the glued value is text)} over the code cells;
    names built in a loop (f-strings) are matched as patterns."""
    found = {}
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    for k, cell in enumerate(code):
        source = "".join(cell["source"])
        following = "".join(code[k + 1]["source"]) if k + 1 < len(code) else ""
        # the comparison is asserted by the gluing cell or by the code cell right after it
        asserts = bool(re.search(r"^\s*assert\b", source + "\n" + following, re.M))
        if not re.search(r"\bglue\w*\(", source):
            continue
        # every name the cell may glue: its f-string names as patterns, its other string
        # literals as they are (names passed through a loop variable)
        for prefix, quote, text in re.findall(r"(?<![A-Za-z0-9_])(f?)([\"'])([A-Za-z0-9_{}\[\]\"' .:]+?)\2", source):
            pattern = (re.sub(r"\\\{.*?\\\}", "[A-Za-z0-9_]+", re.escape(text)) if prefix
                       else re.escape(text))
            found[pattern] = found.get(pattern, False) or asserts
        for output in cell.get("outputs", []):
            name = output.get("metadata", {}).get("scrapbook", {}).get("name")
            text = output.get("data", {}).get("application/papermill.record/text/plain", "")
            if name:  # names computed in the cell (a glued word is computed by the cell)
                found[re.escape(name)] = (found.get(re.escape(name), False) or asserts
                                          or text[:1] in "'\"")
    return found


def unbacked(page):
    """The comparative sentences of ``page`` that paste values none of which is asserted."""
    cells = json.loads((BOOK / f"{page}.ipynb").read_text())["cells"]
    sources = glue_sources(cells)
    bad = []
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        for sentence in sentences("".join(cell["source"])):
            names = GLUE.findall(sentence)
            words = re.sub(r"(\{glue(?::\w+)?\})?`[^`]*`", "", sentence)  # not glue or code
            if not names or not COMPARATIVE.search(words):
                continue
            if not any(sources.get(p) for n in names for p in sources if re.fullmatch(p, n)):
                bad.append(sentence)
    return bad


@pytest.mark.parametrize("page", PAGES)
def test_comparative_sentences_are_backed(page):
    bad = unbacked(page)
    assert not bad, f"{page}: comparative sentences without a computed comparison:\n" + \
        "\n".join(f"- {s}" for s in bad)


def test_the_check_finds_an_unbacked_sentence():
    cells = [{"cell_type": "code", "source": ["glue('a', 1.0)\n"], "outputs": []},
             {"cell_type": "markdown", "source": ["SIP is faster ({glue:text}`a:.2g`)."]}]
    sources = glue_sources(cells)
    assert sources == {"a": False}
    cells[0]["source"] = ["assert x < y\n", "glue('a', 1.0)\n"]
    assert glue_sources(cells) == {"a": True}
    assert sentences("A is more.\n:::{hint}\nB is less.\n:::\n\n## C\n\nD. E.") == [
        "A is more.", "D.", "E."]
