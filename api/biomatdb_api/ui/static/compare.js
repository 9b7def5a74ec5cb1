// Draws the comparison bar chart (each property as a percentage of the highest value), and on a
// narrow screen says that the table scrolls sideways.
(function () {
  "use strict";
  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9"];

  // a table wider than its box shows a hint and a shadow at the edge it scrolls towards
  function scrollHint() {
    var box = document.getElementById("compare-scroll");
    var hint = document.getElementById("compare-scroll-hint");
    if (!box || !hint) { return; }
    var update = function () {
      var wide = box.scrollWidth > box.clientWidth + 1;
      hint.hidden = !wide;
      box.classList.toggle("scrolls", wide);
      box.classList.toggle("scrolled-to-end", box.scrollLeft + box.clientWidth >= box.scrollWidth - 1);
      box.classList.toggle("scrolled", box.scrollLeft > 0);
    };
    box.addEventListener("scroll", update, { passive: true });
    window.addEventListener("resize", update);
    update();
  }

  function chart() {
    var holder = document.getElementById("compare-chart");
    var source = document.getElementById("compare-data");
    if (!holder || !source) { return; }
    var data = JSON.parse(source.textContent);
    var traces = data.series.map(function (series, index) {
      return { type: "bar", name: series.name, x: data.properties,
               y: series.values.map(function (v) { return v === null ? null : v * 100; }),
               marker: { color: PALETTE[index % PALETTE.length] },
               hovertemplate: "<b>" + series.name.replace(/</g, "&lt;") + "</b><br>%{x}: %{y:.0f} % of the highest<extra></extra>" };
    });
    var big = window.innerWidth >= 1600;
    window.Plotly.newPlot(holder, traces, {
      barmode: "group", xaxis: { automargin: true },
      yaxis: { title: { text: "% of the highest" }, range: [0, 105], tickvals: [0, 25, 50, 75, 100], ticktext: ["0 %", "25 %", "50 %", "75 %", "100 %"], gridcolor: "#e3e7e4" },
      legend: { orientation: "h", y: 1.02, yanchor: "bottom", x: 0 }, margin: { l: 70, r: 20, t: 40, b: 110 },
      paper_bgcolor: "#fff", plot_bgcolor: "#fff", font: { size: big ? 16 : 13, family: "system-ui, sans-serif" }
    // no toolbar: a bar chart of a few materials has nothing to zoom, and a toolbar over the
    // legend (at the top, where the x axis's material names leave it room) hid its first entry
    }, { responsive: true, displayModeBar: false, displaylogo: false, showSendToCloud: false, plotlyServerURL: "" }).then(function () { holder.setAttribute("data-drawn", "true"); });
  }

  document.addEventListener("DOMContentLoaded", function () { scrollHint(); chart(); });
})();
