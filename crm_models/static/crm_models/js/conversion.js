// The conversion page: choosing another service for a row refills the row's
// contract name and amount from that service, unless the user has changed
// them. "Changed" means differing from what the previous service would have
// filled in, so it also holds on a page redrawn after an error.
(function () {
  "use strict";

  const NAME_LIMIT = 200;

  function contractName(serviceName, leadName) {
    // As contract_name_default() on the server: cut to 200 characters.
    return Array.from(`${serviceName} — ${leadName}`).slice(0, NAME_LIMIT).join("");
  }

  // The amount as shown in the user's language ("3 000 000,00") or typed
  // plainly ("3000000.00"): the same amount either way.
  function sameAmount(value, option) {
    if (value.trim() === "") {
      return true;
    }
    if (!option) {
      return false;
    }
    const compact = value.replace(/\s/g, "");
    return compact === (option.dataset.priceText || "").replace(/\s/g, "") || Number(compact) === Number(option.dataset.price);
  }

  function remember(select) {
    select.dataset.service = select.value;
  }

  function refill(select) {
    const row = select.closest("tr");
    const previous = select.querySelector(`option[value="${CSS.escape(select.dataset.service || "")}"]`);
    const chosen = select.selectedOptions[0];
    remember(select);
    if (!row || !chosen) {
      return;
    }
    const leadName = row.dataset.leadName || "";
    const name = row.querySelector("input[name$='-name']");
    const amount = row.querySelector("input[name$='-amount']");
    const previousName = previous ? contractName(previous.textContent, leadName) : "";
    if (name && (name.value.trim() === "" || name.value === previousName)) {
      name.value = contractName(chosen.textContent, leadName);
    }
    if (amount && sameAmount(amount.value, previous)) {
      amount.value = chosen.dataset.priceText || chosen.dataset.price;
    }
  }

  function start() {
    const table = document.getElementById("convert_rows");
    if (!table) {
      return;
    }
    table.querySelectorAll("select[name$='-service']").forEach(remember);
    table.addEventListener("change", (event) => {
      if (event.target.matches("select[name$='-service']")) {
        refill(event.target);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
