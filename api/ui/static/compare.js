// Draws the comparison bar chart (each property as a share of the highest value).
(function () {
  "use strict";
  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9"];
  document.addEventListener("DOMContentLoaded", function () {
    var holder = document.getElementById("compare-chart");
    var source = document.getElementById("compare-data");
    if (!holder || !source) { return; }
    var chart = JSON.parse(source.textContent);
    var traces = chart.series.map(function (series, index) {
      return { type: "bar", name: series.name, x: chart.properties, y: series.values,
               marker: { color: PALETTE[index % PALETTE.length] },
               hovertemplate: "<b>" + series.name.replace(/</g, "&lt;") + "</b><br>%{x}: %{y:.0%} of the highest<extra></extra>" };
    });
    var big = window.innerWidth >= 1600;
    window.Plotly.newPlot(holder, traces, {
      barmode: "group", xaxis: { automargin: true }, yaxis: { title: { text: "share of the highest" }, range: [0, 1.05], tickformat: ".0%", gridcolor: "#e3e7e4" },
      legend: { orientation: "h", y: 1.02, yanchor: "bottom", x: 0 }, margin: { l: 70, r: 20, t: 40, b: 110 },
      paper_bgcolor: "#fff", plot_bgcolor: "#fff", font: { size: big ? 16 : 13, family: "system-ui, sans-serif" }
    }, { responsive: true, displaylogo: false, showSendToCloud: false, plotlyServerURL: "" }).then(function () { holder.setAttribute("data-drawn", "true"); });
  });
})();
