// "Find a material for…": the candidates' Ashby chart (the plotly bundle this app serves), its
// movable index lines, and weight sliders that re-rank without a reload. The page works without
// it: the form re-ranks on submit and the ranked list is the server's.
(function () {
  "use strict";

  var guides = {};      // slope → log10 of the constant, kept while the ranking changes
  var sequence = 0;     // the latest re-rank asked for; older answers are dropped

  // the middle of a span on its axis: geometric on a log axis, arithmetic on a linear one; the
  // server chose each axis's scale and range from every value drawn (api/biomatdb_api/ui/ashby.py's rules)
  function middle(axis, span) { return axis.scale === "log" ? Math.sqrt(span[0] * span[1]) : (span[0] + span[1]) / 2; }
  // an end of an axis's range (log10 of the value on a log axis) as a value
  function fromAxis(axis, end) { return axis.scale === "log" ? Math.pow(10, end) : end; }

  function candidateTrace(data, points, top) {
    var mids = points.map(function (p) { return [middle(data.x, p.x), middle(data.y, p.y)]; });
    var colour = top ? "#0b5d4b" : "#8a948f";
    return {
      type: "scatter", mode: top ? "markers+text" : "markers",
      name: top ? "Best ranked (with their rank)" : "Other candidates",
      x: mids.map(function (m) { return m[0]; }), y: mids.map(function (m) { return m[1]; }),
      text: top ? points.map(function (p) { return String(p.rank); }) : undefined,
      textposition: "top right", textfont: { size: 14, color: "#0b5d4b" },
      customdata: points.map(function (p) {
        return [p.id, p.name, p.x_text, p.y_text, p.rank === null ? "not ranked" : "rank " + p.rank];
      }),
      error_x: { type: "data", symmetric: false, thickness: 1.2, width: 0, color: colour,
                 array: points.map(function (p, i) { return p.x[1] - mids[i][0]; }),
                 arrayminus: points.map(function (p, i) { return mids[i][0] - p.x[0]; }) },
      error_y: { type: "data", symmetric: false, thickness: 1.2, width: 0, color: colour,
                 array: points.map(function (p, i) { return p.y[1] - mids[i][1]; }),
                 arrayminus: points.map(function (p, i) { return mids[i][1] - p.y[0]; }) },
      marker: top
        ? { symbol: "circle", size: 14, color: "#0b5d4b", line: { color: "#fff", width: 2 } }
        : { symbol: "circle", size: 9, color: "rgba(138,148,143,0.75)", line: { color: "#4a524e", width: 0.6 } },
      hovertemplate: "<b>%{customdata[1]}</b> (%{customdata[4]})<br>" + data.x.name + ": %{customdata[2]}<br>" +
                     data.y.name + ": %{customdata[3]}<extra></extra>"
    };
  }

  function tissueTrace(data, box, xr, yr) {
    // a box where the tissue has both values; a band across the axis it has none of
    var x = box.x || [fromAxis(data.x, xr[0]), fromAxis(data.x, xr[1])];
    var y = box.y || [fromAxis(data.y, yr[0]), fromAxis(data.y, yr[1])];
    return {
      type: "scatter", mode: "lines", name: box.name + " (reference tissue)", meta: "tissue",
      x: [x[0], x[1], x[1], x[0], x[0]], y: [y[0], y[0], y[1], y[1], y[0]],
      fill: "toself", fillcolor: "rgba(0,0,0,0.08)", line: { color: "#000", width: 1.5, dash: "dot" },
      hovertemplate: "<b>" + box.name + "</b><br>" + data.x.name + ": " + (box.x_text || "no value") + "<br>" +
                     data.y.name + ": " + (box.y_text || "no value") + "<extra>reference tissue</extra>"
    };
  }

  function draw(holder) {
    var source = holder.querySelector("#select-chart-data");
    var chart = holder.querySelector("#select-chart");
    if (!source || !chart || !window.Plotly) { return; }
    var data = JSON.parse(source.textContent);
    var points = data.points;
    if (!points.length) { return; }
    // the best ranked of those drawn (a candidate without a value of an axis is not on the chart)
    var top = points.filter(function (p) { return p.rank !== null; })
      .sort(function (a, b) { return a.rank - b.rank; }).slice(0, data.highlighted);
    var rest = points.filter(function (p) { return top.indexOf(p) < 0; });
    var xr = data.x.range, yr = data.y.range;
    var first = top.length ? top[0] : points[0];
    var traces = data.tissues.map(function (b) { return tissueTrace(data, b, xr, yr); });
    var firstGuide = traces.length;
    // index lines y^(1/n)/x = C are straight only on two log axes
    var bothLog = data.x.scale === "log" && data.y.scale === "log";
    if (bothLog) { traces = traces.concat(window.BiomatGuides.traces(holder, data, points, first, xr, guides)); }
    traces.push(candidateTrace(data, rest, false));
    if (top.length) { traces.push(candidateTrace(data, top, true)); }
    var small = window.innerWidth < 700;
    var layout = {
      xaxis: window.BiomatGuides.axisLayout(data.x, xr),
      yaxis: window.BiomatGuides.axisLayout(data.y, yr),
      // the legend goes under the chart at every width: at the top, the toolbar covered it
      legend: { orientation: "h", y: small ? -0.18 : -0.2, yanchor: "top", x: 0, font: { size: small ? 11 : 13 } },
      margin: { l: 64, r: 16, t: small ? 16 : 30, b: small ? 150 : 130 }, hovermode: "closest", dragmode: "zoom",
      paper_bgcolor: "#fff", plot_bgcolor: "#fff", font: { size: small ? 12 : 13, family: "system-ui, sans-serif" }
    };
    var status = holder.querySelector("#select-chart-status");
    if (status) { status.remove(); }
    window.Plotly.newPlot(chart, traces, layout, { responsive: true, displaylogo: false, showSendToCloud: false, plotlyServerURL: "", scrollZoom: false,
      modeBarButtonsToRemove: ["select2d", "lasso2d"] }).then(function () {
      chart.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && point.customdata && point.customdata[0]) {
          window.location.href = "/materials/" + encodeURIComponent(point.customdata[0]) + (data.view_query || "");
        }
      });
      chart.setAttribute("data-drawn", String(points.length));
    });
    var fieldset = holder.querySelector("#select-guides");
    if (fieldset) { fieldset.hidden = !bothLog; }
    if (bothLog) { window.BiomatGuides.bind(holder, chart, data, xr, guides, firstGuide); }
  }

  function rerank(form) {
    var results = document.getElementById("select-results");
    var query = new URLSearchParams(new FormData(form)).toString();
    var mine = ++sequence;
    results.setAttribute("aria-busy", "true");
    return fetch("/select?" + query, { headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        if (mine !== sequence) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("select-results");
        if (!fresh) { return; }
        results.innerHTML = fresh.innerHTML;
        results.removeAttribute("aria-busy");
        results.setAttribute("data-ranked", String(mine));
        var first = results.querySelector(".ranked-table tbody .candidate-name a");
        var problem = results.querySelector(".filter-error");
        document.getElementById("select-status").textContent = problem ? problem.textContent.trim()
          : first ? "Ranked again: " + first.textContent + " comes first." : "Ranked again: no candidate.";
        window.history.replaceState(null, "", "/select?" + query);
        draw(results);
      })
      .catch(function () {
        results.removeAttribute("aria-busy");
        form.submit();  // without the fetch, the form still ranks
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("select-form");
    var results = document.getElementById("select-results");
    if (results) { draw(results); }
    if (!form) { return; }
    form.querySelectorAll("input[data-weight]").forEach(function (slider) {
      var output = document.getElementById(slider.id + "-value");
      slider.addEventListener("input", function () { output.textContent = slider.value; });
      // a weight of a filled row re-ranks as soon as it is let go
      slider.addEventListener("change", function () {
        var row = slider.closest(".objective-row");
        if (row && row.querySelector("input[name=property]").value.trim()) { rerank(form); }
      });
    });
    ["policy", "missing", "x", "y"].forEach(function (id) {
      var select = document.getElementById(id);
      if (select) { select.addEventListener("change", function () { rerank(form); }); }
    });
  });
})();
