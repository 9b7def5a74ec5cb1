// Index lines on an Ashby chart of two log axes: y^(1/n)/x = C, i.e. y = (C·x)^n, a straight
// line of slope n; each is moved with its slider (#guide-N, its name in #guide-N-name, its
// constant in #guide-N-value). Shared by the Ashby page and "Find a material for…".
(function () {
  "use strict";

  var SUPERSCRIPT = { "0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵", "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻" };
  function axisTitle(axis) { return axis.name + (axis.unit ? " (" + axis.unit + ")" : ""); }

  // A tick of a log axis as a full number: 0.8, 1, 20, 10 000; or with a power of ten: 2 × 10⁷,
  // 10⁻⁵ (a mantissa alone for 10⁰: never "× 10⁰"). One notation per axis (tickTexts): an axis
  // with any tick beyond 10⁻³…10⁶ writes every tick with its power, so "100 000" never stands
  // beside "10⁶".
  function exponentOf(v) { return Math.floor(log10(v) + 1e-9); }
  function plainTick(v) {
    var text = Number(v.toPrecision(6)).toString();
    return v >= 10000 ? text.replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f") : text;
  }
  function powerTick(v) {
    var exponent = exponentOf(v);
    var mantissa = Number((v / Math.pow(10, exponent)).toPrecision(3));
    if (exponent === 0) { return String(mantissa); }
    var power = "10" + String(exponent).split("").map(function (c) { return SUPERSCRIPT[c]; }).join("");
    return mantissa === 1 ? power : mantissa + " × " + power;
  }
  function tickTexts(values) {
    var scientific = values.some(function (v) { var e = exponentOf(v); return e < -3 || e >= 6; });
    return values.map(scientific ? powerTick : plainTick);
  }
  // Ticks of a log axis over `range` (log10 of its ends): 1–9 of each decade on a short axis,
  // 1, 2, 5 on a middling one, the decades (or every k-th) on a long one.
  function logTicks(range) {
    var span = range[1] - range[0];
    var steps = span <= 1 ? [1, 2, 3, 4, 5, 6, 7, 8, 9] : span <= 3 ? [1, 2, 5] : [1];
    var every = span > 8 ? Math.ceil(span / 8) : 1;
    var values = [];
    for (var decade = Math.floor(range[0]); decade <= Math.ceil(range[1]); decade += 1) {
      if (decade % every !== 0) { continue; }
      steps.forEach(function (step) {
        var v = step * Math.pow(10, decade);
        if (log10(v) >= range[0] && log10(v) <= range[1]) { values.push(Number(v.toPrecision(6))); }
      });
    }
    // zoomed within one step (1.1 to 1.4): too few of those ticks; plotly's own, as full numbers
    if (values.length < 2) { return { tickmode: "auto", tickvals: null, ticktext: null, exponentformat: "none" }; }
    return { tickmode: "array", tickvals: values, ticktext: tickTexts(values) };
  }
  // Ticks of a linear axis over `range`: about six steps of 1, 2 or 5 × 10ⁿ, written as the log
  // axis writes them (narrow spaces, never commas; a power of ten on every tick when any needs
  // one), a minus sign for values below zero. plotly's own wrote "35,000,000", wider than a phone's
  // margin, over the axis title.
  function signed(text, v) { return v < 0 ? "\u2212" + text : text; }
  function linearTicks(range) {
    var low = Math.min(range[0], range[1]), high = Math.max(range[0], range[1]);
    if (!(high > low)) { return { tickmode: "auto", tickvals: null, ticktext: null, exponentformat: "none" }; }
    var raw = (high - low) / 6, power = Math.pow(10, Math.floor(log10(raw))), m = raw / power;
    var step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power, values = [];
    for (var i = Math.ceil(low / step - 1e-9); i * step <= high + step * 1e-9; i += 1) {
      values.push(Number((i * step).toPrecision(12)));
    }
    var nonzero = values.filter(function (v) { return v !== 0; }).map(Math.abs);
    var scientific = nonzero.some(function (v) { var e = exponentOf(v); return e < -3 || e >= 6; });
    var texts = values.map(function (v) {
      if (v === 0) { return "0"; }
      return signed(scientific ? powerTick(Math.abs(v)) : plainTick(Math.abs(v)), v);
    });
    return { tickmode: "array", tickvals: values, ticktext: texts };
  }
  function axisLayout(axis, range) {
    var base = {
      type: axis.scale, range: range, title: { text: axisTitle(axis) }, gridcolor: "#e3e7e4",
      zeroline: axis.scale === "linear", automargin: true,
    };
    if (axis.scale === "log") { return Object.assign(base, logTicks(range)); }
    return Object.assign(base, linearTicks(range), { zerolinecolor: "#b9c2bd" });
  }
  function ticksFor(scale, range) { return scale === "log" ? logTicks(range) : linearTicks(range); }

  var SLOPES = [1, 2, 3];
  var ROOTS = { 1: "", 2: "½", 3: "⅓" };
  var COLOURS = { 1: "#0072B2", 2: "#D55E00", 3: "#CC79A7" };

  function log10(v) { return Math.log(v) / Math.LN10; }
  function middle(span) { return Math.sqrt(span[0] * span[1]); }
  function sig(v) { return Number(v.toPrecision(3)).toString(); }
  function symbol(axis) { return axis.symbol || axis.name; }

  function expression(data, n) { return symbol(data.y) + (ROOTS[n] ? "^" + ROOTS[n] : "") + "/" + symbol(data.x); }
  function unit(data, n) {
    if (!data.y.unit && !data.x.unit) { return ""; }
    var top = data.y.unit ? (n === 1 ? data.y.unit : "(" + data.y.unit + ")^" + ROOTS[n]) : "1";
    return top + "/" + (data.x.unit ? (data.x.unit.indexOf("/") >= 0 ? "(" + data.x.unit + ")" : data.x.unit) : "1");
  }
  // the vocabulary's name of the index, where the chart's data names one (E/ρ: specific stiffness)
  function title(data, n) {
    var named = (data.guides || []).filter(function (g) { return g.slope === n && g.name; })[0];
    return (named ? named.name + ", " : "") + expression(data, n);
  }
  function line(logC, n, range) {
    var c = Math.pow(10, logC);
    var xs = [Math.pow(10, range[0]), Math.pow(10, range[1])];
    return { x: xs, y: xs.map(function (x) { return Math.pow(c * x, n); }) };
  }
  function constants(points, n) {
    return points.map(function (p) { return log10(Math.pow(middle(p.y), 1 / n) / middle(p.x)); });
  }

  // The lines' traces, one per slope, each where `kept` last had it (when its slider still reaches
  // there), else through the point `through`; the sliders in `holder` are set to reach one decade
  // beyond every point's constant. `kept` is updated as the lines move.
  function traces(holder, data, points, through, xr, kept, visible) {
    return SLOPES.map(function (n) {
      var all = constants(points, n);
      var low = Math.min.apply(null, all) - 1, high = Math.max.apply(null, all) + 1;
      var start = kept[n] !== undefined && kept[n] >= low && kept[n] <= high ? kept[n] : constants([through], n)[0];
      var input = holder.querySelector("#guide-" + n);
      if (input) {
        input.min = low.toFixed(2); input.max = high.toFixed(2); input.step = "0.01"; input.value = String(start);
        start = Number(input.value);  // as the slider holds it (to its step), so the line and the number agree
        holder.querySelector("#guide-" + n + "-name").textContent = title(data, n);
      }
      kept[n] = start;
      var at = line(start, n, xr);
      return {
        type: "scatter", mode: "lines", name: expression(data, n) + " = const", meta: "guide-" + n,
        x: at.x, y: at.y, hoverinfo: "skip", visible: visible === false ? false : true,
        line: { color: COLOURS[n], width: 1.5, dash: "dash" }
      };
    });
  }

  // Moves line n (trace first + the slope's place in SLOPES) with its slider, and shows its constant.
  function bind(holder, chart, data, xr, kept, first) {
    SLOPES.forEach(function (n, place) {
      var input = holder.querySelector("#guide-" + n);
      var output = holder.querySelector("#guide-" + n + "-value");
      if (!input) { return; }
      var show = function () {
        var logC = Number(input.value);
        output.textContent = sig(Math.pow(10, logC)) + (unit(data, n) ? " " + unit(data, n) : "");
        output.setAttribute("data-constant", String(Math.pow(10, logC)));
        return logC;
      };
      show();
      input.addEventListener("input", function () {
        var logC = show();
        kept[n] = logC;
        var at = line(logC, n, xr);
        window.Plotly.restyle(chart, { x: [at.x], y: [at.y] }, [first + place]);
      });
    });
  }

  window.BiomatGuides = { SLOPES: SLOPES, traces: traces, bind: bind, expression: expression, axisLayout: axisLayout, logTicks: logTicks, linearTicks: linearTicks, ticksFor: ticksFor, tickTexts: tickTexts };
})();
