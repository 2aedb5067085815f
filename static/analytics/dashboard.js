// Live dashboard: renders stats snapshots (first from the page, then from the websocket).
// Every text from the server goes through textContent: participant and gate names are data, not HTML.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("dashboard-config").textContent);
  const csrfToken = document.querySelector("#csrf-holder input[name=csrfmiddlewaretoken]").value;
  const METHOD_LABELS = { qr_scan: "QR", ble_auto: "BLE", manual: "Manual" };
  const METHOD_COLORS = { qr_scan: "#4aa3ff", ble_auto: "#2fbf71", manual: "#f2b134" };
  const numberFormat = new Intl.NumberFormat();

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function setText(id, value) { document.getElementById(id).textContent = value; }
  function pct(value) { return (value * 100).toFixed(1) + "%"; }
  function localTime(iso, timeZone) {
    if (!iso) return "–";
    return new Date(iso).toLocaleTimeString([], { timeZone: timeZone, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  }
  function formatWait(seconds) {
    if (seconds < 60) return Math.round(seconds) + " s";
    return (seconds / 60).toFixed(1) + " min";
  }

  // --- Charts (Chart.js from static/vendor, no CDN) -------------------------------------
  Chart.defaults.color = "#93a4b5";
  Chart.defaults.borderColor = "rgba(255,255,255,0.08)";
  const methodChart = new Chart(document.getElementById("method-chart"), {
    type: "doughnut",
    data: { labels: Object.values(METHOD_LABELS), datasets: [{ data: [0, 0, 0], backgroundColor: Object.values(METHOD_COLORS) }] },
    options: { animation: false, maintainAspectRatio: false, plugins: { legend: { position: "bottom" } } },
  });
  const hourlyChart = new Chart(document.getElementById("hourly-chart"), {
    type: "bar",
    data: {
      labels: [],
      datasets: Object.keys(METHOD_LABELS).map((m) => ({ label: METHOD_LABELS[m], data: [], backgroundColor: METHOD_COLORS[m], stack: "s" })),
    },
    options: {
      animation: false, maintainAspectRatio: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { position: "bottom" } },
    },
  });

  // --- Rendering --------------------------------------------------------------------------
  function renderKpis(stats) {
    const o = stats.overall;
    setText("kpi-registered", numberFormat.format(o.registered));
    setText("kpi-checked-in", numberFormat.format(o.checkedIn));
    setText("kpi-inside", numberFormat.format(o.insideNow));
    setText("kpi-rate", pct(o.attendanceRate));
    setText("kpi-scans", numberFormat.format(o.scans.total) + " (" + numberFormat.format(o.scans.duplicate + o.scans.rejected) + ")");
  }

  function renderGates(stats) {
    const tbody = document.querySelector("#gate-table tbody");
    const rows = stats.gates.map((g) => {
      const tr = el("tr", { "data-gate": g.id });
      const name = el("td");
      name.appendChild(el("strong", {}, g.name));
      name.appendChild(el("div", { class: "muted small" }, g.id + " · " + g.direction + " · " + g.capacityPerMinute + "/min"));
      tr.appendChild(name);
      tr.appendChild(el("td", { class: "status status-" + g.status }, g.status));
      tr.appendChild(el("td", { class: "num scans" }, numberFormat.format(g.scansProcessed)));
      tr.appendChild(el("td", {}, [g.methods.qr_scan, g.methods.ble_auto, g.methods.manual].join(" / ")));
      tr.appendChild(el("td", {}, localTime(g.lastScanAt, stats.event.timezone)));
      const loadCell = el("td");
      const bar = el("span", { class: "bar " + g.status, role: "meter", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(Math.round(g.load * 100)) });
      const fill = el("span");
      fill.style.width = Math.min(100, g.load * 100) + "%";
      bar.appendChild(fill);
      loadCell.appendChild(bar);
      loadCell.appendChild(el("span", { class: "load-text" }, " " + pct(g.load)));
      tr.appendChild(loadCell);
      tr.appendChild(el("td", { class: "num" }, formatWait(g.estimatedWaitSeconds)));
      return tr;
    });
    tbody.replaceChildren(...rows);
  }

  function renderAlerts(stats) {
    const list = document.getElementById("alerts");
    const items = stats.alerts.map((a) => {
      const li = el("li", { class: a.kind, "data-alert": String(a.id) });
      const text = el("div");
      text.appendChild(el("strong", {}, a.kind === "gate_overload" ? "Gate overload" : "Low attendance"));
      text.appendChild(el("span", {}, " — " + a.message));
      text.appendChild(el("div", { class: "muted small" }, "raised " + localTime(a.raisedAt, stats.event.timezone) + ", last seen " + localTime(a.lastSeenAt, stats.event.timezone)));
      li.appendChild(text);
      const form = el("form", { method: "post", action: config.resolveUrl.replace(/0\/resolve\/$/, a.id + "/resolve/") });
      form.appendChild(el("input", { type: "hidden", name: "csrfmiddlewaretoken", value: csrfToken }));
      form.appendChild(el("button", { type: "submit" }, "Resolve"));
      li.appendChild(form);
      return li;
    });
    list.replaceChildren(...items);
    document.getElementById("no-alerts").hidden = items.length > 0;
  }

  function renderCharts(stats) {
    const methods = Object.keys(METHOD_LABELS);
    methodChart.data.datasets[0].data = methods.map((m) => stats.methods[m]);
    methodChart.update();
    const total = methods.reduce((sum, m) => sum + stats.methods[m], 0);
    setText("method-text", methods.map((m) => METHOD_LABELS[m] + " " + (total ? pct(stats.methods[m] / total) : "0%")).join(" · "));
    hourlyChart.data.labels = stats.hourly.map((h) => h.label);
    methods.forEach((m, i) => { hourlyChart.data.datasets[i].data = stats.hourly.map((h) => h.methods[m]); });
    hourlyChart.update();
  }

  function renderPredictions(stats) {
    const p = stats.predictions;
    setText("pred-final", numberFormat.format(p.expectedFinalAttendance) + " (" + pct(p.expectedFinalRate) + ")");
    setText("pred-final-why", p.explanation.expectedFinalAttendance);
    setText("pred-peak", p.peakHour ? p.peakHour.label + " — " + numberFormat.format(p.peakHour.entries) + " entries" : "–");
    setText("pred-peak-why", p.explanation.peakHour);
  }

  function render(stats) {
    renderKpis(stats);
    renderGates(stats);
    renderAlerts(stats);
    renderCharts(stats);
    renderPredictions(stats);
    setText("generated-at", localTime(stats.generatedAt, stats.event.timezone));
  }

  // --- Connection with automatic reconnect ------------------------------------------------
  const state = document.getElementById("connection-state");
  function setState(name, label) {
    state.className = "conn conn-" + name;
    state.textContent = label;
    state.dataset.state = name;
  }

  let retryDelay = 500;
  let hasConnected = false;
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + config.wsPath);
    let opened = false;
    socket.addEventListener("open", () => { opened = true; hasConnected = true; retryDelay = 500; setState("live", "live"); });
    socket.addEventListener("message", (message) => {
      const payload = JSON.parse(message.data);
      if (payload.type === "stats.updated") render(payload.data);
    });
    socket.addEventListener("close", () => {
      // Refused before the handshake (logged out / no longer a member) or the server went away:
      // keep retrying with backoff; a restarted server or Redis brings the stream back.
      setState(opened || hasConnected ? "reconnecting" : "connecting", "reconnecting in " + Math.round(retryDelay / 1000) + " s…");
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    });
  }

  render(JSON.parse(document.getElementById("initial-stats").textContent));
  connect();
})();
