// Names select2's autocomplete boxes after their field's label: select2
// draws a combobox (named by the select's title, which select2 copies) and,
// inside it, a read-only textbox that screen readers otherwise announce
// without a name. select2 draws its boxes when jQuery is ready, which may be
// before or after this script's page events, and again for a formset's new
// row: every box is named as it appears.
(function () {
  "use strict";

  function nameAutocomplete(select) {
    var label = document.querySelector('label[for="' + select.id + '"]');
    var box = select.parentElement && select.parentElement.querySelector(".select2-selection");
    if (!label || !box) {
      return;
    }
    if (!label.id) {
      label.id = select.id + "-label";
    }
    var rendered = box.querySelector(".select2-selection__rendered");
    var ids = [label.id];
    if (rendered && rendered.id) {
      ids.push(rendered.id);
      rendered.setAttribute("aria-labelledby", label.id);
    }
    box.setAttribute("aria-labelledby", ids.join(" "));
  }

  function nameAutocompletes() {
    document.querySelectorAll("select.admin-autocomplete[id]").forEach(nameAutocomplete);
  }

  function drawsABox(mutation) {
    return Array.prototype.some.call(mutation.addedNodes, function (node) {
      return node.nodeType === 1 && (node.matches(".select2") || node.querySelector(".select2") !== null);
    });
  }

  function start() {
    nameAutocompletes();
    new MutationObserver(function (mutations) {
      if (mutations.some(drawsABox)) {
        nameAutocompletes();
      }
    }).observe(document.body, {childList: true, subtree: true});
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
