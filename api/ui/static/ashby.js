// Draws the Ashby chart from /ui/ashby.json with the plotly bundle this app serves.
(function () {
  "use strict";

  function middle(span) { return Math.sqrt(span[0] * span[1]); }
  function fade(hex, alpha) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16 & 255) + "," + (n >> 8 & 255) + "," + (n & 255) + "," + alpha + ")";
  }
  function positive(point) { return point.x[0] > 0 && point.y[0] > 0; }

  function traces(data) {
    var all = [];
    data.classes.forEach(function (group) {
      if (group.envelope.length >= 3) {
        var ring = group.envelope.concat([group.envelope[0]]);
        all.push({
          type: "scatter", mode: "lines", name: group.name + " envelope", legendgroup: group["class"], showlegend: false,
          x: ring.map(function (p) { return p[0]; }), y: ring.map(function (p) { return p[1]; }),
          fill: "toself", fillcolor: fade(group.color, 0.14), line: { color: fade(group.color, 0.7), width: 1.5 },
          hoverinfo: "skip"
        });
      }
      var points = group.points.filter(positive);
      var mids = points.map(function (p) { return [middle(p.x), middle(p.y)]; });
      all.push({
        type: "scatter", mode: group.tissue ? "markers+text" : "markers", name: group.name, legendgroup: group["class"],
        x: mids.map(function (m) { return m[0]; }), y: mids.map(function (m) { return m[1]; }),
        text: group.tissue ? points.map(function (p) { return p.name; }) : undefined,
        textposition: "top center", textfont: { size: 13, color: "#000" },
        customdata: points.map(function (p) { return [p.id, p.name, p.x_text, p.y_text]; }),
        error_x: { type: "data", symmetric: false, thickness: 1.5, width: 0, color: fade(group.color, 0.8),
                   array: points.map(function (p, i) { return p.x[1] - mids[i][0]; }),
                   arrayminus: points.map(function (p, i) { return mids[i][0] - p.x[0]; }) },
        error_y: { type: "data", symmetric: false, thickness: 1.5, width: 0, color: fade(group.color, 0.8),
                   array: points.map(function (p, i) { return p.y[1] - mids[i][1]; }),
                   arrayminus: points.map(function (p, i) { return mids[i][1] - p.y[0]; }) },
        marker: group.tissue
          ? { symbol: "diamond", size: 15, color: "#000", line: { color: "#fff", width: 2 } }
          : { symbol: "circle", size: 10, color: group.color, line: { color: "#1b1b1b", width: 0.8 } },
        hovertemplate: "<b>%{customdata[1]}</b><br>" + data.x.name + ": %{customdata[2]}<br>" +
                       data.y.name + ": %{customdata[3]}<extra>" + group.name + "</extra>"
      });
    });
    return all;
  }

  function table(data, holder) {
    var rows = [];
    data.classes.forEach(function (group) {
      group.points.forEach(function (p) { rows.push([p, group.name]); });
    });
    var html = document.createElement("table");
    var head = html.createTHead().insertRow();
    ["Material", "Class", data.x.name, data.y.name].forEach(function (title) {
      var th = document.createElement("th"); th.scope = "col"; th.textContent = title; head.appendChild(th);
    });
    var body = html.createTBody();
    rows.forEach(function (row) {
      var tr = body.insertRow();
      var link = document.createElement("a");
      link.href = "/materials/" + encodeURIComponent(row[0].id) + (data.view_query || "");
      link.textContent = row[0].name;
      tr.insertCell().appendChild(link);
      tr.insertCell().textContent = row[1];
      tr.insertCell().textContent = row[0].x_text;
      tr.insertCell().textContent = row[0].y_text;
    });
    holder.replaceChildren(html);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var chart = document.getElementById("ashby-chart");
    if (!chart) { return; }
    var status = document.getElementById("chart-status");
    fetch(chart.getAttribute("data-source"), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json().then(function (body) { return [response.ok, body]; }); })
      .then(function (answer) {
        var data = answer[1];
        if (!answer[0]) { status.textContent = data.error ? data.error.message : "The chart could not be drawn."; return; }
        if (!data.count) { status.textContent = "No material has values of both properties" + (document.getElementById("filter").value ? " that match the filter." : "."); return; }
        var big = window.innerWidth >= 1600;
        var decades = function (axis) {
          var ends = [];
          data.classes.forEach(function (g) { g.points.forEach(function (p) { ends.push(p[axis][0], p[axis][1]); }); });
          ends = ends.filter(function (v) { return v > 0; });
          return Math.log10(Math.max.apply(null, ends)) - Math.log10(Math.min.apply(null, ends));
        };
        // wide spans label the decades only; narrow ones keep plotly's 2 and 5 in between
        var ticks = function (axis) { return decades(axis) > 2 ? { dtick: 1, exponentformat: "power" } : {}; };
        var layout = {
          xaxis: Object.assign({ type: "log", title: { text: data.x.name + (data.x.unit ? " (" + data.x.unit + ")" : "") }, gridcolor: "#e3e7e4", zeroline: false }, ticks("x")),
          yaxis: Object.assign({ type: "log", title: { text: data.y.name + (data.y.unit ? " (" + data.y.unit + ")" : "") }, gridcolor: "#e3e7e4", zeroline: false }, ticks("y")),
          legend: { orientation: "h", y: 1.02, yanchor: "bottom", x: 0, font: { size: big ? 16 : 13 } },
          margin: { l: 70, r: 20, t: 40, b: 60 }, hovermode: "closest", dragmode: "zoom",
          paper_bgcolor: "#fff", plot_bgcolor: "#fff", font: { size: big ? 16 : 13, family: "system-ui, sans-serif" },
          hoverlabel: { font: { size: big ? 16 : 14 } }
        };
        status.remove();
        window.Plotly.newPlot(chart, traces(data), layout, { responsive: true, displaylogo: false, scrollZoom: false,
          modeBarButtonsToRemove: ["select2d", "lasso2d"] }).then(function () {
          chart.on("plotly_click", function (event) {
            var point = event.points && event.points[0];
            if (point && point.customdata) { window.location.href = "/materials/" + encodeURIComponent(point.customdata[0]) + (data.view_query || ""); }
          });
          chart.setAttribute("data-drawn", String(data.count));
        });
        document.getElementById("chart-caption").textContent =
          data.count + " material" + (data.count === 1 ? "" : "s") + " with both " + data.x.name + " and " + data.y.name + ".";
        table(data, document.getElementById("ashby-table"));
      })
      .catch(function () { status.textContent = "The chart could not be drawn."; });
  });
})();
