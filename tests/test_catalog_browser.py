"""The catalogue site in a real headless browser (Debian's chromium through chromedriver), served on 127.0.0.1.

`.ci/run` installs chromium and chromedriver when they are missing; elsewhere the test is skipped without them.
The screenshots are saved in the test's tmp folder (the path is printed); with `MESH_DOCS_SCREENSHOTS=docs/img`
the ones docs/catalog.md shows are written there too.

The mesh is the session's built example with one more build of `orders` after a breaking contract change (the
`not_null` test of `fct_orders.region` removed), so a product page has a history and more than one build, then a
build of `finance` that fails a test, so a product's last build is a failure after a success.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import copy_built_mesh, run_build

from mesh_cli.build.run import BuildReport
from mesh_cli.catalog.index import build_catalog
from mesh_cli.catalog.serve import site_server
from mesh_cli.catalog.site import write_site
from mesh_cli.core.config import load_config
from mesh_cli.core.errors import MeshError

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER):
    if os.environ.get("CI"):
        pytest.fail("chromium and chromedriver are missing: .ci/install-chromium installs them", pytrace=False)
    pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)",
                allow_module_level=True)

from selenium import webdriver  # noqa: E402 - only once the browser is known to be there
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1280,1100")


WIDTHS = (1280, 390)   # a laptop, a phone
PAGES = ("index.html", "products/customers.customer_master.html", "products/orders.order_facts.html",
         "products/finance.revenue_reporting.html")
DOCS_SHOTS = {("index.html", 1280): "catalog.png", ("products/orders.order_facts.html", 1280): "catalog-product.png",
              ("products/orders.order_facts.html", 390): "catalog-product-phone.png"}
# what sticks out of the page; the lineage picture pans inside its own box, which must fit (what it holds may not)
OVERFLOWING = """return Array.from(document.querySelectorAll('body *')).filter(e => {
  const box = e.getBoundingClientRect();
  return box.width > 0 && !e.parentElement.closest('.lineage-view')
    && (box.right > window.innerWidth + 1 || box.left < -1);
}).map(e => e.tagName.toLowerCase() + (e.className && e.className.baseVal === undefined ? '.' + e.className : ''));"""
# identifiers and types broken inside a word: a piece between two <wbr> (or a whole type) laid out on two lines
BROKEN_NAMES = """document.querySelectorAll('details').forEach(d => { d.open = true; });
return Array.from(document.querySelectorAll('code.ident, code.type')).flatMap(code =>
  Array.from(code.childNodes).filter(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim()).filter(n => {
    const range = document.createRange();
    range.selectNodeContents(n);
    const tops = new Set(Array.from(range.getClientRects()).filter(r => r.width > 0).map(r => Math.round(r.top)));
    return tops.size > 1;
  }).map(n => code.textContent));"""
# the smallest font of the health chart's labels as laid out (its size in the SVG times the SVG's scale)
CHART_FONT_PX = """const svg = document.querySelector('svg.health');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  return Math.min(...Array.from(svg.querySelectorAll('text'))
    .map(t => parseFloat(getComputedStyle(t).fontSize) * scale));"""
FAILED_AT = "products/finance.revenue_reporting.html"   # finance's last build failed a test of this product


def _mesh_with_history(built: Path, root: Path) -> Path:
    """A copy of the built mesh where `orders` was built once more after a breaking change to fct_orders."""
    copy_built_mesh(built, root)
    schema = root / "domains/orders/models/marts/_marts.yml"
    text = schema.read_text()
    region = "      - name: region\n        description: Sales region of the customer at build time.\n" \
             "        data_type: varchar\n        data_tests:\n"
    assert text.count(region + "          - not_null\n") == 1
    schema.write_text(text.replace(region + "          - not_null\n", region))
    report = run_build(root, "orders")
    assert report.ok, [(r.domain, r.status, r.reason) for r in report.results]
    # then finance fails: a test of revenue_by_region_month finds rows (the models build; the build fails)
    (root / "domains/finance/tests").mkdir(exist_ok=True)
    (root / "domains/finance/tests/assert_no_revenue.sql").write_text(
        "select * from {{ ref('revenue_by_region_month') }}\n")
    assert not run_build(root, "finance").ok
    return root


@pytest.fixture(scope="module")
def site_url(built_mesh: tuple[Path, BuildReport], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = _mesh_with_history(built_mesh[0], tmp_path_factory.mktemp("history") / "mesh")
    config = load_config(root)
    out = tmp_path_factory.mktemp("catalog") / "site"
    write_site(config, build_catalog(config, "dev", column_lineage=True), out)
    server = site_server(out, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # type: ignore[assignment]
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def _resize(driver: webdriver.Chrome, width: int, height: int = 1100) -> None:
    """A viewport exactly `width` CSS pixels wide (the window adds its frame, if any)."""
    driver.set_window_size(width, height)
    inner = driver.execute_script("return window.innerWidth")
    if inner != width:
        driver.set_window_size(2 * width - inner, height)


def _console_errors(driver: webdriver.Chrome) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def _visible_products(driver: webdriver.Chrome) -> list[str]:
    return [card.get_attribute("data-id") for card in driver.find_elements(By.CSS_SELECTOR, ".product-card")
            if card.is_displayed()]


def test_front_page_lists_and_search_narrows(browser: webdriver.Chrome, site_url: str, tmp_path: Path) -> None:
    _resize(browser, 1280)
    browser.get(site_url)
    assert _visible_products(browser) == ["customers.customer_master", "orders.order_facts",
                                          "finance.revenue_reporting"]
    browser.save_screenshot(str(tmp_path / "catalog.png"))
    print(f"screenshot: {tmp_path / 'catalog.png'}")
    search = browser.find_element(By.ID, "search")
    search.send_keys("order_total")  # a column of orders.fct_orders only
    WebDriverWait(browser, 5).until(lambda d: len(_visible_products(d)) == 1)
    assert _visible_products(browser) == ["orders.order_facts"]
    assert browser.find_element(By.ID, "count").text == "1 of 3 products"
    search.clear()
    search.send_keys("no such thing anywhere")
    WebDriverWait(browser, 5).until(lambda d: not _visible_products(d))
    assert browser.find_element(By.ID, "no-match").is_displayed()
    search.clear()
    search.send_keys(" ")  # clear() alone fires no input event
    assert len(_visible_products(browser)) == 3
    Select(browser.find_element(By.ID, "filter-domain")).select_by_visible_text("finance")
    assert _visible_products(browser) == ["finance.revenue_reporting"]
    Select(browser.find_element(By.ID, "filter-domain")).select_by_index(0)
    Select(browser.find_element(By.ID, "filter-owner")).select_by_visible_text("Customer Data Team")
    assert _visible_products(browser) == ["customers.customer_master"]
    assert _console_errors(browser) == []


def test_product_page_draws_its_lineage(browser: webdriver.Chrome, site_url: str, tmp_path: Path) -> None:
    _resize(browser, 1280)
    browser.get(site_url)
    browser.find_element(By.LINK_TEXT, "customer_master").click()
    WebDriverWait(browser, 5).until(lambda d: d.current_url.endswith("products/customers.customer_master.html"))
    assert browser.find_element(By.ID, "product-title").text.startswith("customer_master")
    graph = browser.find_element(By.CSS_SELECTOR, "svg.lineage")
    assert graph.size["width"] > 300 and graph.size["height"] > 60
    focus = {n.get_attribute("data-node") for n in graph.find_elements(By.CSS_SELECTOR, "g.node.focus")}
    assert focus == {"customers.dim_customers.v1", "customers.dim_customers.v2", "customers.dim_regions"}
    edges = {(e.get_attribute("data-from"), e.get_attribute("data-to"))
             for e in graph.find_elements(By.CSS_SELECTOR, "path.edge")}
    assert ("customers.dim_customers.v1", "orders.fct_orders") in edges
    assert {d.get_attribute("data-domain") for d in graph.find_elements(By.CSS_SELECTOR, "g.domain")} == {
        "customers", "orders", "finance"}
    browser.save_screenshot(str(tmp_path / "product.png"))
    print(f"screenshot: {tmp_path / 'product.png'}")
    graph.find_element(By.CSS_SELECTOR, "g.node[data-node='orders.fct_orders']").click()
    WebDriverWait(browser, 5).until(lambda d: d.current_url.endswith("products/orders.order_facts.html"))
    assert _console_errors(browser) == []


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_reads_for_people_and_fits_the_width(browser: webdriver.Chrome, site_url: str, tmp_path: Path,
                                                        width: int) -> None:
    docs = os.environ.get("MESH_DOCS_SCREENSHOTS")
    for page in PAGES:
        _resize(browser, width)
        browser.get(site_url + page)
        assert browser.execute_script("return document.documentElement.scrollWidth") <= width, page
        assert browser.execute_script(OVERFLOWING) == [], f"{page} at {width} px"
        assert browser.execute_script(BROKEN_NAMES) == [], f"{page} at {width} px"
        lineage = browser.find_element(By.CSS_SELECTOR, ".lineage-view svg")   # readable: never shrunk below 3/4
        assert lineage.size["width"] >= 0.74 * int(lineage.get_attribute("width")), f"{page} at {width} px"
        text = browser.find_element(By.TAG_NAME, "body").text
        assert [literal for literal in ("['", "{'", "None") if literal in text] == [], f"{page} at {width} px"
        assert ".303875" not in text and "+00:00" not in text   # times read as dates, without microseconds
        _resize(browser, width, browser.execute_script("return document.documentElement.scrollHeight") + 40)
        shot = tmp_path / f"{Path(page).stem}-{width}.png"
        browser.save_screenshot(str(shot))
        print(f"screenshot: {shot}")
        if docs and (page, width) in DOCS_SHOTS:
            shutil.copyfile(shot, Path(docs) / DOCS_SHOTS[(page, width)])
    assert _console_errors(browser) == []


def test_each_product_page_shows_its_history_and_health(browser: webdriver.Chrome, site_url: str) -> None:
    _resize(browser, 1280)
    for page in PAGES[1:]:
        browser.get(site_url + page)
        history = browser.find_element(By.ID, "history")
        assert history.is_displayed() and history.find_element(By.TAG_NAME, "h2").text == "History"
        versions = [row.text for row in history.find_elements(By.CSS_SELECTOR, "table.versions td:first-child")]
        assert versions and all(v.startswith(page.split("/")[1].split(".")[0] + ".") for v in versions)
        health = browser.find_element(By.ID, "health")
        assert health.find_elements(By.CSS_SELECTOR, "svg.health g.run"), page
    browser.get(site_url + "products/orders.order_facts.html")
    [change] = browser.find_elements(By.CSS_SELECTOR, "#history article.change")
    assert "breaking" in change.get_attribute("class")
    assert "column region may now be null" in change.text
    assert "hits:" not in change.text   # finance takes region from customers, not from fct_orders: no consumer hit
    assert "orders.fct_orders" in change.find_element(By.TAG_NAME, "h3").text   # the model (and version) it changed
    assert "no commit recorded" in change.text   # the copy is no git repository: said, not left blank
    runs = browser.find_elements(By.CSS_SELECTOR, "svg.health g.run")
    assert len(runs) == 2 and all("success" in run.get_attribute("class") for run in runs)
    assert "2 of 2 recorded builds succeeded" in browser.find_element(By.ID, "health").text
    browser.get(site_url + "products/customers.customer_master.html")
    rows = {row.find_element(By.TAG_NAME, "code").text: row.text
            for row in browser.find_elements(By.CSS_SELECTOR, "#history table.versions tr") if
            row.find_elements(By.TAG_NAME, "code")}
    assert "removed after 30 Jun 2027" in rows["customers.dim_customers.v1"]
    assert "No contract change recorded" in browser.find_element(By.ID, "history").text
    assert _console_errors(browser) == []


def test_a_failed_build_reads_as_failed_with_its_time_and_the_last_success(browser: webdriver.Chrome,
                                                                           site_url: str) -> None:
    _resize(browser, 390)
    browser.get(site_url + FAILED_AT)
    now = browser.find_element(By.ID, "health-now")
    assert "health-failing" in now.get_attribute("class")
    assert now.find_element(By.CSS_SELECTOR, ".health-word").text.lower() == "failing"
    last, success = now.find_elements(By.TAG_NAME, "dd")[:2]
    assert last.text.startswith("failed at ") and last.find_elements(By.TAG_NAME, "time"), last.text
    assert "assert_no_revenue" in last.text   # the reason
    # the successful build before it, beside it: the session's build of finance, earlier than the failed one
    [failed_at] = [datetime.fromisoformat(t.get_attribute("datetime")) for t in last.find_elements(By.TAG_NAME, "time")]
    [success_at] = [datetime.fromisoformat(t.get_attribute("datetime"))
                    for t in success.find_elements(By.TAG_NAME, "time")]
    assert success_at < failed_at - timedelta(seconds=1), (success_at, failed_at)
    assert success_at.isoformat() == browser.find_elements(By.CSS_SELECTOR, "svg.health g.run")[-2].get_attribute(
        "data-at")
    assert browser.find_element(By.CSS_SELECTOR, ".badge.health").text == "failing"
    tests = browser.find_element(By.CSS_SELECTOR, ".badge.tests")
    assert "1 failed" in tests.text and "bad" in tests.get_attribute("class")   # never a green "n/m pass"
    runs = browser.find_elements(By.CSS_SELECTOR, "svg.health g.run")
    assert [r.get_attribute("class").split()[-1] for r in runs][-2:] == ["success", "failed"]
    assert runs[-1].find_elements(By.CSS_SELECTOR, "rect.failed-run")
    # failed on one test of many, the column reads failed: outlined, its failed segment and SLA square in red
    failed_run, failed_tests = (runs[-1].find_element(By.CSS_SELECTOR, f"rect.{kind}")
                                for kind in ("failed-run", "fail"))
    assert float(failed_run.value_of_css_property("stroke-width").removesuffix("px")) >= 2
    assert failed_tests.size["height"] >= 10 and runs[-1].find_elements(By.CSS_SELECTOR, "rect.sla.no-build")
    assert browser.execute_script(CHART_FONT_PX) >= 11   # its labels readable on a phone
    browser.get(site_url)
    card = browser.find_element(By.CSS_SELECTOR, ".product-card[data-id='finance.revenue_reporting']")
    assert card.find_element(By.CSS_SELECTOR, ".badge.health").text == "failing"


def test_a_late_source_is_never_under_a_fresh_badge(browser: webdriver.Chrome, site_url: str) -> None:
    _resize(browser, 1280)
    for page in PAGES[1:]:
        browser.get(site_url + page)
        late = browser.find_elements(By.CSS_SELECTOR, "ul.sources .source-warn, ul.sources .source-error")
        fresh = browser.find_elements(By.CSS_SELECTOR, ".badge.fresh-fresh")
        assert not (late and fresh), page
        if late:
            assert browser.find_element(By.CSS_SELECTOR, ".badge.health").text in ("warning", "failing")


def test_the_lineage_zooms_and_expands_to_columns(browser: webdriver.Chrome, site_url: str, tmp_path: Path) -> None:
    _resize(browser, 1280)
    browser.get(site_url + "products/customers.customer_master.html")
    svg = browser.find_element(By.CSS_SELECTOR, ".lineage-view svg")
    before = svg.size["width"]
    browser.find_element(By.CSS_SELECTOR, "button[data-zoom='in']").click()
    assert svg.size["width"] > before
    browser.find_element(By.CSS_SELECTOR, "button[data-zoom='fit']").click()
    assert svg.size["width"] <= browser.find_element(By.CSS_SELECTOR, ".lineage-view").size["width"] + 1
    browser.find_element(By.CSS_SELECTOR, ".show-columns").click()
    columns = browser.find_element(By.CSS_SELECTOR, ".lineage-view.columns svg")
    assert columns.is_displayed() and not svg.is_displayed()
    shown = {t.get_attribute("data-column") for t in columns.find_elements(
        By.CSS_SELECTOR, "g.node[data-node='customers.dim_customers.v2'] text.column")}
    assert {"customer_id", "email", "region"} <= shown
    arrows = {(e.get_attribute("data-from"), e.get_attribute("data-from-column"), e.get_attribute("data-to"),
               e.get_attribute("data-to-column")): e
              for e in columns.find_elements(By.CSS_SELECTOR, "path.column-edge")}
    # across domains, directly and through finance's internal model: region from customers, revenue from orders
    assert {("customers.dim_customers.v1", "region", "orders.fct_orders", "region"),
            ("customers.dim_customers.v2", "region", "finance.customer_revenue", "region"),
            ("orders.fct_orders", "order_total", "finance.customer_revenue", "revenue")} <= set(arrows)
    assert not [key for key in arrows if key[1] == "email"]   # no consumer takes the email
    arrow = arrows[("customers.dim_customers.v1", "region", "orders.fct_orders", "region")]
    assert arrow.is_displayed() and arrow.size["width"] > 20
    shot = tmp_path / "lineage-columns.png"
    _resize(browser, 1280, browser.execute_script("return document.documentElement.scrollHeight") + 40)
    browser.find_element(By.CSS_SELECTOR, ".lineage-box").screenshot(str(shot))   # the whole box in the window
    print(f"screenshot: {shot}")
    if os.environ.get("MESH_DOCS_SCREENSHOTS"):
        shutil.copyfile(shot, Path(os.environ["MESH_DOCS_SCREENSHOTS"]) / "catalog-columns.png")
    assert _console_errors(browser) == []


def test_serving_a_folder_without_a_catalogue_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MeshError, match="holds no catalogue"):
        site_server(tmp_path, 0)
