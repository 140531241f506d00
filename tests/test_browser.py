"""The built book as a reader sees it: headless Chromium (Debian's package) loads each
page offline and checks the figures and the math.

Needs `make book` first (or runs inside `make test`). Skipped, with the reason shown, only
where /usr/bin/chromium is missing; CI installs it.
"""

import pathlib
import shutil

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAGES = ["book/intro.html"] + [f"book/{p.stem}.html" for p in sorted((ROOT / "book").glob("*.ipynb"))]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not pathlib.Path(CHROMIUM).exists(), reason="Chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not (HTML / "index.html").exists():
        pytest.fail("no built book: run `make book` first")
    with playwright.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_offline_with_figures_and_math(browser, page):
    external = []
    context = browser.new_context()
    # Block anything that would leave the machine, and record it.
    context.route("**/*", lambda route: (external.append(route.request.url), route.abort())
                  if not route.request.url.startswith("file://") else route.continue_())
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto((HTML / page).as_uri(), wait_until="load")
    has_mathjax = tab.evaluate("typeof MathJax !== 'undefined'")
    if has_mathjax:
        tab.evaluate("MathJax.startup.promise")
    widths = tab.locator("img").evaluate_all("els => els.map(e => [e.currentSrc, e.complete, e.naturalWidth])")
    broken = [src for src, complete, width in widths if not (complete and width > 0)]
    assert not broken, f"images that did not load: {broken}"
    if page != "book/intro.html":
        assert has_mathjax and tab.locator("mjx-container").count() > 0, "MathJax typeset nothing"
        assert len(widths) > 0, "a notebook page without figures"
    assert tab.locator("mjx-merror").count() == 0, "MathJax reported errors"
    prose = tab.evaluate("""() => {
        const copy = document.querySelector('article').cloneNode(true);
        copy.querySelectorAll('pre, mjx-container, script').forEach(e => e.remove());
        return copy.textContent; }""")
    assert "\\(" not in prose and "\\[" not in prose and "$$" not in prose, "raw TeX left on the page"
    assert external == [], f"requests left the machine: {external}"
    assert errors == [], f"JavaScript errors: {errors}"
    context.close()
