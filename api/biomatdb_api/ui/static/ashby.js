// Draws the Ashby chart from /ui/ashby.json with the plotly bundle this app serves. The server
// chooses each axis's scale and range from the values drawn (api/biomatdb_api/ui/ashby.py), and writes the
// caption; this draws what it sends, every point of it.
(function () {
  "use strict";

  var guides = {};  // slope → log10 of the constant

  function log10(v) { return Math.log(v) / Math.LN10; }
  function fade(hex, alpha) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16 & 255) + "," + (n >> 8 & 255) + "," + (n & 255) + "," + alpha + ")";
  }
  // the middle of a span on its axis: geometric on a log axis, arithmetic on a linear one
  function middleOn(axis) {
    return axis.scale === "log" ? function (s) { return Math.sqrt(s[0] * s[1]); } : function (s) { return (s[0] + s[1]) / 2; };
  }
  var axisLayout = window.BiomatGuides.axisLayout;

  // a plotly symbol pointing to the open side of a bound: right for x > 24, up for y > 5, ne for both
  function boundSymbol(p) {
    if (p.x_bound === "both" || p.y_bound === "both") { return "diamond-open"; }
    var x = { high: "right", low: "left" }[p.x_bound], y = { high: "up", low: "down" }[p.y_bound];
    if (x && y) { return "triangle-" + (y === "up" ? "n" : "s") + (x === "right" ? "e" : "w") + "-open"; }
    return "triangle-" + (x || y) + "-open";
  }

  // one class's exact points (circles; reference tissues as black diamonds), or its bounds (open
  // triangles, grouped with the class in the legend, which names them once for every class)
  function pointsTrace(group, points, mx, my, data, bounds, inLegend) {
    var mids = points.map(function (p) { return [mx(p.x), my(p.y)]; });
    var colour = group.tissue ? "#000" : group.color;
    return {
      type: "scatter", mode: group.tissue ? "markers+text" : "markers", legendgroup: group["class"],
      name: group.name + (bounds && !inLegend ? " (bounds)" : ""), showlegend: inLegend,
      meta: "class", x: mids.map(function (m) { return m[0]; }), y: mids.map(function (m) { return m[1]; }),
      text: group.tissue ? points.map(function (p) { return p.name; }) : undefined,
      textposition: "top center", textfont: { size: 13, color: "#000" },
      customdata: points.map(function (p) { return [p.id, p.name, p.x_text, p.y_text]; }),
      error_x: { type: "data", symmetric: false, thickness: 1.5, width: 0, color: fade(group.color, 0.8),
                 array: points.map(function (p, i) { return p.x[1] - mids[i][0]; }),
                 arrayminus: points.map(function (p, i) { return mids[i][0] - p.x[0]; }) },
      error_y: { type: "data", symmetric: false, thickness: 1.5, width: 0, color: fade(group.color, 0.8),
                 array: points.map(function (p, i) { return p.y[1] - mids[i][1]; }),
                 arrayminus: points.map(function (p, i) { return mids[i][1] - p.y[0]; }) },
      marker: bounds
        ? { symbol: points.map(boundSymbol), size: 13, color: colour, line: { color: colour, width: 2 } }
        : group.tissue
        ? { symbol: "diamond", size: 15, color: "#000", line: { color: "#fff", width: 2 } }
        : { symbol: "circle", size: 10, color: group.color, line: { color: "#1b1b1b", width: 0.8 } },
      hovertemplate: "<b>%{customdata[1]}</b><br>" + data.x.name + ": %{customdata[2]}<br>" +
                     data.y.name + ": %{customdata[3]}<extra>" + group.name + "</extra>"
    };
  }

  function traces(data) {
    var all = [];
    var mx = middleOn(data.x), my = middleOn(data.y);
    data.classes.forEach(function (group) {
      if (group.envelope.length >= 3) {
        var ring = group.envelope.concat([group.envelope[0]]);
        all.push({
          type: "scatter", mode: "lines", name: group.name + " envelope", legendgroup: group["class"], showlegend: false,
          meta: "envelope", x: ring.map(function (p) { return p[0]; }), y: ring.map(function (p) { return p[1]; }),
          fill: "toself", fillcolor: fade(group.color, 0.14), line: { color: fade(group.color, 0.7), width: 1.5 },
          hoverinfo: "skip"
        });
      }
      var exact = group.points.filter(function (p) { return !p.x_bound && !p.y_bound; });
      var bounded = group.points.filter(function (p) { return p.x_bound || p.y_bound; });
      if (exact.length || !bounded.length) { all.push(pointsTrace(group, exact, mx, my, data, false, true)); }
      if (bounded.length) { all.push(pointsTrace(group, bounded, mx, my, data, true, !exact.length)); }
    });
    if (data.bounds) {
      // the legend's one entry for every bound, in every class: an open triangle
      all.push({ type: "scatter", mode: "markers", name: "a bound (> or <): the value lies where it points",
                 meta: "bound-legend", x: [null], y: [null], hoverinfo: "skip",
                 marker: { symbol: "triangle-right-open", size: 11, color: "#1b1b1b", line: { width: 2 } } });
    }
    if (data.highlight) {
      var h = data.highlight;
      all.push({
        type: "scatter", mode: "markers+text", name: h.name + " (this material)", meta: "highlight",
        x: [mx(h.x)], y: [my(h.y)], text: [h.name], textposition: "top right",
        textfont: { size: 15, color: "#000" }, customdata: [[h.id, h.name, h.x_text, h.y_text]],
        marker: { symbol: "circle-open", size: 26, color: "#000", line: { color: "#000", width: 3 } },
        hovertemplate: "<b>%{customdata[1]}</b><br>" + data.x.name + ": %{customdata[2]}<br>" +
                       data.y.name + ": %{customdata[3]}<extra>this material</extra>"
      });
    }
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

  // the index lines, off until switched on; only on two log axes, where they are straight
  function guideLines(data, chart, first) {
    var fieldset = document.getElementById("ashby-guides");
    var note = document.getElementById("guides-note");
    if (note && data.guides_note) { note.textContent = data.guides_note; note.hidden = false; }  // why there are none
    if (!fieldset || !data.guides.length) { return; }
    var toggle = document.getElementById("guides-on");
    var sliders = document.getElementById("guide-sliders");
    fieldset.hidden = false;
    window.BiomatGuides.bind(fieldset, chart, data, data.x.range, guides, first);
    var show = function () {
      sliders.hidden = !toggle.checked;
      var at = window.BiomatGuides.SLOPES.map(function (n, i) { return first + i; });
      window.Plotly.restyle(chart, { visible: toggle.checked }, at);
    };
    toggle.addEventListener("change", show);
    if (toggle.checked) { show(); }
  }

  // the room under the plot for the x axis's ticks and title, and then for the legend
  var AXIS_ROOM = 72;
  function legendRoom(chart) {
    var legend = chart.querySelector(".legend");
    var wanted = AXIS_ROOM + (legend ? Math.ceil(legend.getBoundingClientRect().height) + 8 : 0);
    if (Math.abs(chart._fullLayout.margin.b - wanted) > 2) { return window.Plotly.relayout(chart, { "margin.b": wanted }); }
    return Promise.resolve();
  }

  function draw(chart, data) {
    var big = window.innerWidth >= 1600;
    var small = window.innerWidth < 700;
    var all = traces(data);
    var firstGuide = all.length;
    if (data.guides.length) {
      var points = [];
      data.classes.forEach(function (g) { points = points.concat(g.points); });
      var through = data.highlight || points[0];
      all = all.concat(window.BiomatGuides.traces(document.getElementById("ashby-guides"), data, points, through,
                                                  data.x.range, guides, false));
    }
    var layout = {
      xaxis: axisLayout(data.x, data.x.range),
      yaxis: axisLayout(data.y, data.y.range),
      // under the plot, at every width: plotly's toolbar sits at the top right and never covers it
      // the legend under the axis title, at every width: plotly's toolbar sits at the top right
      // and never covers it; the bottom margin is made room for it once it is drawn (legendRoom)
      legend: { orientation: "h", x: 0, xanchor: "left", yref: "container", y: 0, yanchor: "bottom",
                font: { size: big ? 16 : small ? 12 : 13 } },
      margin: { l: small ? 56 : 70, r: small ? 12 : 20, t: 36, b: AXIS_ROOM }, hovermode: "closest", dragmode: "zoom",
      paper_bgcolor: "#fff", plot_bgcolor: "#fff", font: { size: big ? 16 : 13, family: "system-ui, sans-serif" },
      hoverlabel: { font: { size: big ? 16 : 14 } }
    };
    window.Plotly.newPlot(chart, all, layout, { responsive: true, displaylogo: false, showSendToCloud: false, plotlyServerURL: "", scrollZoom: false,
      modeBarButtonsToRemove: ["select2d", "lasso2d"] }).then(function () {
      chart.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && point.customdata) { window.location.href = "/materials/" + encodeURIComponent(point.customdata[0]) + (data.view_query || ""); }
      });
      // zoomed or reset: full-number ticks for the range now shown
      chart.on("plotly_relayout", function (change) {
        ["x", "y"].forEach(function (name) {
          var axis = data[name];
          var moved = Object.keys(change).some(function (k) { return k.indexOf(name + "axis.range") === 0 || k === name + "axis.autorange"; });
          if (!moved) { return; }
          var ticks = window.BiomatGuides.ticksFor(axis.scale, chart.layout[name + "axis"].range), update = {};
          Object.keys(ticks).forEach(function (key) { update[name + "axis." + key] = ticks[key]; });
          window.Plotly.relayout(chart, update);
        });
      });
      guideLines(data, chart, firstGuide);
      return legendRoom(chart);
    }).then(function () {
      window.addEventListener("resize", function () { window.setTimeout(function () { legendRoom(chart); }, 200); });
      var drawn = chart.data.filter(function (t) { return t.meta === "class"; })
        .reduce(function (n, t) { return n + t.x.length; }, 0);
      chart.setAttribute("data-drawn", String(drawn));
    });
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
        document.getElementById("chart-caption").textContent = data.caption;
        if (!data.count) { status.textContent = "No material has values of both properties" + (document.getElementById("filter").value ? " that match the filter." : "."); return; }
        status.remove();
        draw(chart, data);
        table(data, document.getElementById("ashby-table"));
      })
      .catch(function () { status.textContent = "The chart could not be drawn."; });
  });
})();
