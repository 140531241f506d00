"""The built book as a reader sees it: headless Chromium (Debian's package) loads every page
offline in a 1280 x 900 window and checks the figures, the math, the tables, the widths, the
equation numbers and the exercises.

Needs `make book` first (or runs inside `make test`). Skipped, with the reason shown, only
where /usr/bin/chromium is missing; CI installs it.
"""

import pathlib
import re
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NOTEBOOK_PAGES = [f"book/{p.stem}.html" for p in sorted((ROOT / "book").glob("*.ipynb"))]
PAGES = ["book/intro.html", *NOTEBOOK_PAGES, "book/bibliography.html"]
WINDOW = {"width": 1280, "height": 900}

# The exercises a notebook page must have, and how the test finds them: sphinx-exercise's
# directive, written in a Markdown cell as
#     :::{exercise} A short title
#     :label: ex-<page>-<name>
#     ...
#     :::
# renders as <div class="exercise admonition" id="ex-...">.
EXERCISE_SELECTOR = "div.exercise"
MIN_EXERCISES = 2

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not pathlib.Path(CHROMIUM).exists(), reason="Chromium is not installed (apt-get install chromium)"),
]

# Raw Markdown table text: a separator row such as |---|---:| as myst-nb leaves it when it
# renders a Markdown output as CommonMark, where Sphinx turns "---" into an em-dash.
RAW_TABLE = re.compile(r"\|\s*:?\s*(?:-{3,}|[\u2014\u2013]+|&#8212;|&mdash;)\s*:?\s*\|")

# Everything the page measures, in one visit (JavaScript, run after MathJax has typeset).
MEASURE = """() => {
  const article = document.querySelector('article');
  const style = getComputedStyle(article), box = article.getBoundingClientRect();
  const right = box.right - parseFloat(style.paddingRight);
  const label = e => {
    const math = e.closest('div.math');
    const where = math ? `${math.id} ${((math.querySelector('.eqno') || {}).firstChild || {}).textContent || ''}`
                       : (e.closest('[id]') || {}).id || '';
    return `<${e.tagName.toLowerCase()} class="${e.getAttribute('class') || ''}"> in #${where}: `
           + (e.textContent || '').replace(/\\s+/g, ' ').trim().slice(0, 60);
  };
  const tooWide = [];
  // Block elements: what they hold must fit inside them (no scrollbar of their own) ...
  const blocks = 'pre, div.highlight, div.cell_output, div.output, div.math, '
               + 'mjx-container[display="true"], div.pst-scrollable-table-container, table, img, figure';
  for (const e of article.querySelectorAll(blocks)) {
    if (e.scrollWidth > e.clientWidth + 1)
      tooWide.push(`${label(e)} (holds ${e.scrollWidth} px in ${e.clientWidth} px)`);
  }
  // ... and they, and inline math, must end inside the article's column.
  for (const e of article.querySelectorAll(blocks + ', mjx-container')) {
    const end = e.getBoundingClientRect().right;
    if (end > right + 1) tooWide.push(`${label(e)} (ends at ${Math.round(end)} px, the column at ${Math.round(right)} px)`);
  }
  const prose = article.cloneNode(true);
  prose.querySelectorAll('pre, code, mjx-container, script').forEach(e => e.remove());
  const heading = article.querySelector('h1 .section-number');
  return {
    prose: prose.textContent,
    proseHtml: prose.innerHTML,
    tables: article.querySelectorAll('table').length,
    tooWide,
    articleWidths: [article.clientWidth, article.scrollWidth],
    pageWidths: [document.documentElement.clientWidth, document.documentElement.scrollWidth],
    chapter: heading ? heading.textContent.trim() : null,
    equationNumbers: [...article.querySelectorAll('div.math span.eqno')].map(e => e.firstChild.textContent.trim()),
    equationReferences: [...article.querySelectorAll('a[href*="#equation-"]:not(.headerlink)')].map(a => a.textContent.trim()),
    exercises: article.querySelectorAll('""" + EXERCISE_SELECTOR + """').length,
    mathjaxErrors: document.querySelectorAll('mjx-merror').length,
    mathjaxScripts: document.querySelectorAll('script[src*="mathjax"]').length,
    typeset: document.querySelectorAll('mjx-container').length,
  };
}"""


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not (HTML / "index.html").exists():
        pytest.fail("no built book: run `make book` first")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def seen(browser):
    """seen(page): what a reader's browser shows on the page (each page is loaded once)."""
    visits = {}

    def visit(page):
        if page in visits:
            return visits[page]
        external, errors = [], []
        context = browser.new_context(viewport=WINDOW)
        # Block anything that would leave the machine, and record it.
        context.route("**/*", lambda route: (external.append(route.request.url), route.abort())
                      if not route.request.url.startswith("file://") else route.continue_())
        tab = context.new_page()
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto((HTML / page).as_uri(), wait_until="load")
        has_mathjax = tab.evaluate("typeof MathJax !== 'undefined'")
        if has_mathjax:
            tab.evaluate("MathJax.startup.promise")
        images = tab.locator("img").evaluate_all("els => els.map(e => [e.currentSrc, e.complete, e.naturalWidth])")
        visits[page] = dict(tab.evaluate(MEASURE), has_mathjax=has_mathjax, images=images,
                            external=external, errors=errors)
        context.close()
        return visits[page]

    return visit


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_offline_with_figures_and_math(seen, page):
    shown = seen(page)
    broken = [src for src, complete, width in shown["images"] if not (complete and width > 0)]
    assert not broken, f"images that did not load: {broken}"
    if page in NOTEBOOK_PAGES:
        assert shown["has_mathjax"] and shown["typeset"] > 0, "MathJax typeset nothing"
        assert len(shown["images"]) > 0, "a notebook page without figures"
    assert shown["mathjaxErrors"] == 0, "MathJax reported errors"
    assert shown["mathjaxScripts"] <= 1, "MathJax loaded more than once (a _static/ folder? see README)"
    prose = shown["prose"]
    assert "\\(" not in prose and "\\[" not in prose and "$$" not in prose, "raw TeX left on the page"
    assert shown["external"] == [], f"requests left the machine: {shown['external']}"
    assert shown["errors"] == [], f"JavaScript errors: {shown['errors']}"


@pytest.mark.parametrize("page", PAGES)
def test_tables_render_as_tables(seen, page):
    """Markdown tables that cells print (display(Markdown(...))) must become tables:
    `nb_render_markdown_format: gfm` in _config.yml."""
    shown = seen(page)
    raw = RAW_TABLE.findall(shown["prose"]) + RAW_TABLE.findall(shown["proseHtml"])
    assert not raw, f"raw Markdown table text on the page: {raw[:5]}"
    if page == "book/discussion.html":
        # The table over every experiment and the table of the SVD's cost.
        assert shown["tables"] >= 2, f"the discussion page shows {shown['tables']} tables, expected 2"


@pytest.mark.parametrize("page", PAGES)
def test_nothing_is_wider_than_the_page_column(seen, page):
    """At 1280 px nothing scrolls sideways: code and printed output wrap (resources/css/book.css),
    and a display equation or a table that does not fit is reported here, to be broken or
    narrowed in the source."""
    shown = seen(page)
    assert shown["pageWidths"][1] <= shown["pageWidths"][0], f"the page scrolls sideways: {shown['pageWidths']}"
    assert shown["articleWidths"][1] <= shown["articleWidths"][0], f"the article scrolls sideways: {shown['articleWidths']}"
    assert not shown["tooWide"], "wider than the page column at 1280 px:\n" + "\n".join(shown["tooWide"])


@pytest.mark.parametrize("page", PAGES)
def test_equations_are_numbered_per_chapter(seen, page):
    """`numbered: true` in _toc.yml and numfig: equation k of chapter n reads (n.k), here and
    in every {eq} reference (to this page or another)."""
    shown = seen(page)
    for reference in shown["equationReferences"]:
        assert re.fullmatch(r"\(\d+\.\d+\)", reference), f"an equation reference reads {reference!r}"
    if page not in NOTEBOOK_PAGES:
        return
    assert shown["chapter"] and re.fullmatch(r"\d+\.", shown["chapter"]), (
        f"the page title carries no chapter number: {shown['chapter']!r}")
    chapter = shown["chapter"].rstrip(".")
    for number in shown["equationNumbers"]:
        assert re.fullmatch(rf"\({chapter}\.\d+\)", number), f"equation {number} on chapter {chapter}"
    expected = [f"({chapter}.{k})" for k in range(1, len(shown["equationNumbers"]) + 1)]
    assert shown["equationNumbers"] == expected


# EXERCISES: every notebook page ends with exercises (see EXERCISE_SELECTOR above).
@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_every_notebook_page_has_exercises(seen, page):
    count = seen(page)["exercises"]
    assert count >= MIN_EXERCISES, (
        f"{page} has {count} exercises ({EXERCISE_SELECTOR}), at least {MIN_EXERCISES} expected")
