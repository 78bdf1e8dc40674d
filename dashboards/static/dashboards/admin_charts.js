/* Draws the dashboard's django-admin-charts with unfold's Chart.js.
 *
 * Each chart is a <form class="admin-chart"> holding the period (hidden
 * inputs) and the toolbar; its data comes from the chart's `chart-data` URL as
 * JSON. Names of campaigns, channels or users only ever reach Chart.js as
 * strings, which it paints on the canvas, and error texts go in with
 * textContent: nothing from the server is parsed as markup or run as script.
 */
(function () {
  "use strict";

  const PALETTE = ["#2563eb", "#16a34a", "#ea580c", "#9333ea", "#0891b2", "#dc2626", "#ca8a04", "#db2777", "#4f46e5", "#65a30d", "#64748b"];
  const TICKS = "#9ca3af";
  const charts = new WeakMap();
  const requests = new WeakMap();

  function gridColor() {
    const dark = document.documentElement.classList.contains("dark");
    const name = dark ? "--color-base-700" : "--color-base-200";
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#e5e7eb";
  }

  function config(answer) {
    const datasets = answer.datasets.map(function (dataset, index) {
      const color = PALETTE[index % PALETTE.length];
      return {
        label: dataset.label,
        data: dataset.data,
        borderColor: color,
        backgroundColor: answer.fill ? color + "66" : color,
        fill: answer.fill,
        tension: 0.2,
        pointRadius: answer.labels.length > 60 ? 0 : 2,
      };
    });
    const grid = {color: gridColor()};
    return {
      type: answer.type,
      data: {labels: answer.labels, datasets: datasets},
      options: {
        animation: false,
        // Numbers on the axes and in tooltips as the page's language writes them.
        locale: document.documentElement.lang || undefined,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: answer.horizontal ? "y" : "x",
        interaction: {mode: "index", intersect: false},
        plugins: {
          legend: {display: datasets.length > 1, position: "bottom", align: "start", labels: {color: TICKS, boxWidth: 10}},
        },
        scales: {
          x: {stacked: answer.stacked, ticks: {color: TICKS, maxRotation: 0, autoSkip: true}, grid: {display: false}},
          y: {stacked: answer.stacked, beginAtZero: true, ticks: {color: TICKS}, grid: grid},
        },
      },
    };
  }

  function showMessage(form, text) {
    const message = form.parentElement.querySelector(".admin-chart-message");
    message.textContent = text;
    message.classList.toggle("hidden", !text);
  }

  function load(form) {
    const query = new URLSearchParams(new FormData(form)).toString();
    form.querySelector(".admin-chart-csv").setAttribute("href", form.dataset.csvUrl + "?" + query);
    const previous = requests.get(form);
    if (previous) {
      previous.abort();
    }
    const controller = new AbortController();
    requests.set(form, controller);
    fetch(form.dataset.url + "?" + query, {credentials: "same-origin", signal: controller.signal, headers: {Accept: "application/json"}})
      .then(function (response) {
        if (response.ok) {
          return response.json();
        }
        return response.text().then(function (text) {
          throw new Error(response.status === 400 ? text : "HTTP " + response.status);
        });
      })
      .then(function (answer) {
        showMessage(form, "");
        const canvas = form.parentElement.querySelector(".admin-chart-canvas");
        const existing = charts.get(canvas);
        if (existing) {
          existing.destroy();
        }
        charts.set(canvas, new Chart(canvas.getContext("2d"), config(answer)));
        canvas.dataset.loaded = "true";
      })
      .catch(function (error) {
        if (error.name !== "AbortError") {
          showMessage(form, error.message);
        }
      });
  }

  function start() {
    document.querySelectorAll("form.admin-chart").forEach(function (form) {
      form.addEventListener("change", function () {
        load(form);
      });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
      });
      load(form);
    });
    // Dark mode flips the class on <html>: recolour the grid lines.
    new MutationObserver(function () {
      document.querySelectorAll(".admin-chart-canvas").forEach(function (canvas) {
        const chart = charts.get(canvas);
        if (chart) {
          chart.options.scales.y.grid.color = gridColor();
          chart.update();
        }
      });
    }).observe(document.documentElement, {attributes: true, attributeFilter: ["class"]});
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
