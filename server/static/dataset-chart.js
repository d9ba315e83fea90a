// Bar chart of a statistics dataset, drawn with Chart.js from the JSON block on the page.
(function () {
  "use strict";
  var PALETTE = ["#2b6cb0", "#dd6b20", "#2f855a", "#b83280", "#805ad5", "#0987a0", "#b7791f", "#4a5568"];

  function init() {
    var canvas = document.getElementById("dataset-chart");
    var source = document.getElementById("dataset-chart-data");
    if (!canvas || !source || typeof window.Chart !== "function") { return; }
    var spec = JSON.parse(source.textContent || "{}");
    if (!spec.labels) { return; }
    var chart = new window.Chart(canvas, {
      type: spec.type || "bar",
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (d, i) {
          return { label: d.label, data: d.data, backgroundColor: PALETTE[i % PALETTE.length] };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: spec.datasets.length > 1 }, title: { display: false } },
        scales: {
          x: { title: { display: !!spec.xTitle, text: spec.xTitle } },
          y: { beginAtZero: true, title: { display: !!spec.unit, text: spec.unit } }
        }
      }
    });
    canvas.setAttribute("data-chart-ready", "true");
    window.romagraphChart = chart;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
