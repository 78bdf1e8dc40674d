// Names select2's autocomplete boxes after their field's label: select2
// draws a combobox that screen readers otherwise announce without a name.
(function () {
  "use strict";

  function nameAutocompletes() {
    document.querySelectorAll("select.admin-autocomplete[id]").forEach(function (select) {
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
    });
  }

  window.addEventListener("load", nameAutocompletes);
  document.addEventListener("formset:added", function () {
    window.setTimeout(nameAutocompletes, 0);
  });
})();
