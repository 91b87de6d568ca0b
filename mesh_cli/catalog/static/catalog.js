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
