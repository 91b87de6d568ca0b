// Search and filters of the catalogue's front page. Plain JS, no network: everything is in the page.
(function () {
  "use strict";
  var cards = Array.prototype.slice.call(document.querySelectorAll(".product-card"));
  var search = document.getElementById("search");
  if (!search || cards.length === 0) {
    return;
  }
  var filters = {
    domain: document.getElementById("filter-domain"),
    owner: document.getElementById("filter-owner"),
    tag: document.getElementById("filter-tag"),
    confidentiality: document.getElementById("filter-confidentiality")
  };
  var count = document.getElementById("count");
  var noMatch = document.getElementById("no-match");

  function matches(card, words) {
    var data = card.dataset;
    if (filters.domain.value && data.domain !== filters.domain.value) { return false; }
    if (filters.owner.value && data.owner !== filters.owner.value) { return false; }
    if (filters.confidentiality.value && data.confidentiality !== filters.confidentiality.value) { return false; }
    if (filters.tag.value && data.tags.split("|").indexOf(filters.tag.value) < 0) { return false; }
    return words.every(function (word) { return data.search.indexOf(word) >= 0; });
  }

  function apply() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    cards.forEach(function (card) {
      var visible = matches(card, words);
      card.hidden = !visible;
      shown += visible ? 1 : 0;
    });
    count.textContent = shown + " of " + cards.length + " products";
    noMatch.hidden = shown !== 0;
  }

  search.addEventListener("input", apply);
  Object.keys(filters).forEach(function (key) { filters[key].addEventListener("change", apply); });
  apply();
}());

// Ages ("2 h ago") as of when the page is read, with the rules of mesh_cli/catalog/display.py: the site may be
// opened long after it was written.
(function () {
  "use strict";
  var DAY = 24 * 60;
  var UNITS = [[60, 1, "min"], [2 * DAY, 60, "h"], [60 * DAY, DAY, "days"], [730 * DAY, 30 * DAY, "months"],
               [Infinity, 365 * DAY, "years"]];

  function age(since, now) {
    var minutes = (now - since) / 60000;
    var ahead = minutes < 0;
    minutes = Math.abs(minutes);
    if (minutes < 1) { return "just now"; }
    var unit = UNITS.filter(function (u) { return minutes < u[0]; })[0];
    var count = Math.floor(minutes / unit[1]);
    var name = count === 1 && /s$/.test(unit[2]) ? unit[2].slice(0, -1) : unit[2];
    return ahead ? "in " + count + " " + name : count + " " + name + " ago";
  }

  var now = Date.now();
  Array.prototype.forEach.call(document.querySelectorAll(".age[data-since]"), function (span) {
    var since = Date.parse(span.getAttribute("data-since"));
    if (!isNaN(since)) { span.textContent = "(" + age(since, now) + ")"; }
  });
}());

// The lineage view: fits its box at a readable size (labels never below MIN_SCALE of their size: a phone pans
// instead), zooms with the buttons or Ctrl + wheel, pans by dragging, and swaps to the column-level picture.
(function () {
  "use strict";
  var MIN_SCALE = 0.75, MAX_SCALE = 3, STEP = 1.25;

  function setup(tools) {
    var views = [tools.nextElementSibling, tools.nextElementSibling.nextElementSibling];
    var scale = null;

    function visible() { return views.filter(function (v) { return !v.hidden; })[0]; }
    function svgOf(view) { return view.querySelector("svg"); }
    function natural(svg) { return [Number(svg.getAttribute("width")), Number(svg.getAttribute("height"))]; }

    function apply(next) {
      scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, next));
      views.forEach(function (view) {
        var svg = svgOf(view);
        if (!svg) { return; }
        var size = natural(svg);
        svg.style.width = (size[0] * scale) + "px";
        svg.style.height = (size[1] * scale) + "px";
      });
    }

    function fit() {
      var view = visible(), svg = view && svgOf(view);
      if (!svg) { return; }
      apply(Math.min(1, view.clientWidth / natural(svg)[0]));
    }

    tools.addEventListener("click", function (event) {
      var button = event.target.closest("button[data-zoom]");
      if (!button) { return; }
      var how = button.getAttribute("data-zoom");
      if (how === "fit") { fit(); } else { apply(scale * (how === "in" ? STEP : 1 / STEP)); }
    });
    tools.querySelector(".show-columns").addEventListener("change", function (event) {
      views[0].hidden = event.target.checked;
      views[1].hidden = !event.target.checked;
      fit();
    });
    views.forEach(function (view) {
      var drag = null;
      view.addEventListener("wheel", function (event) {
        if (!event.ctrlKey) { return; }
        event.preventDefault();
        apply(scale * (event.deltaY < 0 ? STEP : 1 / STEP));
      }, {passive: false});
      view.addEventListener("mousedown", function (event) {
        drag = [event.clientX, event.clientY, view.scrollLeft, view.scrollTop, false];
      });
      view.addEventListener("mousemove", function (event) {
        if (!drag) { return; }
        var dx = event.clientX - drag[0], dy = event.clientY - drag[1];
        if (Math.abs(dx) + Math.abs(dy) > 4) { drag[4] = true; view.classList.add("dragging"); }
        view.scrollLeft = drag[2] - dx;
        view.scrollTop = drag[3] - dy;
      });
      view.addEventListener("click", function (event) {   // a drag is no click on the model under the pointer
        if (drag && drag[4]) { event.preventDefault(); }
        drag = null;
        view.classList.remove("dragging");
      }, true);
      window.addEventListener("mouseup", function () {
        setTimeout(function () { drag = null; view.classList.remove("dragging"); }, 0);
      });
    });
    fit();
    window.addEventListener("resize", fit);
  }

  Array.prototype.forEach.call(document.querySelectorAll(".lineage-tools"), setup);
}());
