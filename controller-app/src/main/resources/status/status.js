// Slipstream fleet status page: polls /api/status every POLL_MS and redraws the tables.
// Every value from the controller (worker ids, reasons, event details) is set with textContent,
// never as HTML.
(function () {
  'use strict';
  var POLL_MS = 1000;
  // Workers seen before but missing from the latest document: shown as gone until GONE_KEEP_MS passed.
  var GONE_KEEP_MS = 60000;
  var gone = {};
  var lastWorkers = {};

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) {
      e.textContent = String(text);
    }
    if (cls) {
      e.className = cls;
    }
    return e;
  }

  function row(cells, numeric) {
    var tr = document.createElement('tr');
    cells.forEach(function (c, i) {
      if (c instanceof Node) {
        var td = document.createElement('td');
        td.appendChild(c);
        tr.appendChild(td);
      } else {
        tr.appendChild(el('td', c, numeric && numeric.indexOf(i) >= 0 ? 'num' : null));
      }
    });
    return tr;
  }

  function fill(tableId, rows) {
    var body = document.querySelector('#' + tableId + ' tbody');
    while (body.firstChild) {
      body.removeChild(body.firstChild);
    }
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function bytes(n) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + ' ' + units[i];
  }

  function percent(ratio) {
    return ratio === undefined ? 'n/a' : (100 * ratio).toFixed(1) + ' %';
  }

  function badge(label) {
    // The class is one of a known set; anything else gets the neutral style.
    var known = ['serving', 'not_serving', 'down', 'unknown', 'gone'];
    return el('span', label, 'badge ' + (known.indexOf(label) >= 0 ? label : 'unknown'));
  }

  // Admin actions (drain, purge) need an operator token: asked once per tab, kept in sessionStorage
  // (gone with the tab), sent as a bearer token, forgotten when the controller answers 401.
  var TOKEN_KEY = 'slipstream.adminToken';

  function token() {
    var t = window.sessionStorage.getItem(TOKEN_KEY);
    if (!t) {
      t = window.prompt('Operator token for the Slipstream admin API');
      if (t) {
        window.sessionStorage.setItem(TOKEN_KEY, t);
      }
    }
    return t;
  }

  function adminPost(path, body) {
    var t = token();
    var out = document.getElementById('admin-result');
    if (!t) {
      out.textContent = 'no token given; nothing sent';
      return;
    }
    out.textContent = 'POST ' + path + ' ...';
    fetch(path, {
      method: 'POST', cache: 'no-store',
      headers: { 'Authorization': 'Bearer ' + t, 'Content-Type': 'application/json' },
      body: body === undefined ? '' : JSON.stringify(body)
    }).then(function (r) {
      if (r.status === 401) {
        window.sessionStorage.removeItem(TOKEN_KEY);
      }
      return r.text().then(function (text) { out.textContent = 'POST ' + path + ': ' + r.status + ' ' + text; });
    }).catch(function (err) {
      out.textContent = 'POST ' + path + ' failed: ' + err;
    });
  }

  function drainButton(id) {
    var b = el('button', 'Drain', 'action drain');
    b.type = 'button';
    b.addEventListener('click', function () {
      if (window.confirm('Drain worker ' + id + '?')) {
        adminPost('/api/workers/' + encodeURIComponent(id) + '/drain');
      }
    });
    return b;
  }

  function workerLink(id) {
    var a = el('a', id, 'worker-link');
    a.href = '#worker=' + encodeURIComponent(id);
    return a;
  }

  function renderWorkers(doc) {
    var now = Date.now();
    var current = {};
    var rows = [];
    doc.workers.forEach(function (w) {
      current[w.id] = w;
      delete gone[w.id];
      var tr = row([workerLink(w.id), w.role, w.site, badge(w.health), (100 * w.cpu).toFixed(0) + ' %',
        bytes(w.bytes_in_per_second), bytes(w.bytes_out_per_second), w.active_flows, w.queue_depth,
        w.compression_fallbacks, w.reason || '', w.health === 'serving' ? drainButton(w.id) : ''],
        [4, 5, 6, 7, 8, 9]);
      tr.setAttribute('data-worker-id', w.id);
      tr.setAttribute('data-health', w.health);
      tr.children[1].className = 'role';
      tr.children[3].className = 'health';
      rows.push(tr);
    });
    Object.keys(lastWorkers).forEach(function (id) {
      if (!current[id] && !gone[id]) {
        gone[id] = { worker: lastWorkers[id], since: now };
      }
    });
    Object.keys(gone).forEach(function (id) {
      var g = gone[id];
      if (now - g.since > GONE_KEEP_MS) {
        delete gone[id];
        return;
      }
      var tr = row([id, g.worker.role, g.worker.site, badge('gone'), '', '', '', '', '', '', 'left the fleet', ''],
        []);
      tr.setAttribute('data-worker-id', id);
      tr.setAttribute('data-health', 'gone');
      tr.className = 'gone';
      tr.children[1].className = 'role';
      tr.children[3].className = 'health';
      rows.push(tr);
    });
    lastWorkers = current;
    fill('workers', rows);
  }

  function render(doc) {
    fill('sites', doc.sites.map(function (s) { return row([s.site, s.workers, s.serving], [1, 2]); }));
    fill('roles', doc.roles.map(function (r) { return row([r.role, r.workers, r.serving], [1, 2]); }));
    var s = doc.savings;
    fill('savings', [
      row(['WAN bytes saved', bytes(s.wan_bytes_saved)], [1]),
      row(['WAN / application bytes', percent(s.wan_reduction_ratio)], [1]),
      row(['Cache hit ratio', percent(s.cache_hit_ratio)], [1]),
      row(['Cache hits / lookups', s.cache_hits + ' / ' + s.cache_lookups], [1]),
      row(['Origin requests', s.cache_origin_requests], [1]),
      row(['Origin bytes fetched', bytes(s.cache_origin_bytes)], [1]),
      row(['Origin requests saved', percent(s.origin_requests_saved_ratio)], [1]),
      row(['Origin bytes saved (est.)', s.origin_bytes_saved_estimate === undefined ? 'n/a'
          : bytes(s.origin_bytes_saved_estimate)], [1]),
      row(['Compression fallbacks', s.compression_fallbacks], [1])
    ]);
    renderWorkers(doc);
    document.getElementById('empty-fleet').hidden = doc.workers.length > 0;
    fill('placement', doc.placement.map(function (p) {
      var members = p.members.map(function (m) { return m.id + ' (' + m.buckets + ')'; }).join(', ');
      return row([p.policy, p.site, p.chain, members || 'none']);
    }));
    fill('policies', doc.policies.map(function (p) {
      return row([p.name, p.chain, p.ingress_site || 'any']);
    }));
  }

  function connection(label, text) {
    var c = document.getElementById('connection');
    c.className = 'badge ' + label;
    c.textContent = text;
  }

  document.getElementById('purge-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var what = document.getElementById('purge-kind').value;
    var value = document.getElementById('purge-value').value.trim();
    var body = {};
    body[what] = what === 'tags' ? value.split(/\s+/) : value;
    adminPost('/api/cache/purge', body);
  });

  // ---- Charts (uPlot, from the controller's classpath) --------------------------------------------------
  // The history is a 15-minute ring of one-second samples kept by the controller; the page redraws the
  // charts from it every poll. window.slipstreamCharts says, per chart, what the last draw showed.
  var COLORS = ['#2471a3', '#c0392b', '#27ae60', '#8e44ad', '#e67e22', '#16a085', '#7f8c8d', '#d4ac0d'];
  var MARKER_COLORS = { death: '#c0392b', card: '#e67e22', scaling: '#2471a3', config: '#8e44ad' };
  var charts = {};
  var workerCharts = {};
  window.slipstreamCharts = {};

  function formatter(unit) {
    if (unit === 'bytes/s') {
      return function (v) { return v === null ? '' : bytes(v) + '/s'; };
    }
    if (unit === 'ratio') {
      return function (v) { return v === null ? '' : (100 * v).toFixed(0) + ' %'; };
    }
    return function (v) { return v === null ? '' : String(Math.round(v * 100) / 100); };
  }

  // Vertical lines at the markers' times, coloured by kind; counts what it drew for the test.
  function markerPlugin(state, markersOf) {
    return {
      hooks: {
        draw: function (u) {
          var ctx = u.ctx;
          var min = u.scales.x.min;
          var max = u.scales.x.max;
          var drawn = 0;
          var kinds = [];
          markersOf().forEach(function (m) {
            var x = m.at / 1000;
            if (x < min || x > max) {
              return;
            }
            var px = Math.round(u.valToPos(x, 'x', true));
            ctx.save();
            ctx.strokeStyle = MARKER_COLORS[m.kind] || '#555';
            ctx.lineWidth = 2 * window.devicePixelRatio;
            ctx.setLineDash([5, 3]);
            ctx.beginPath();
            ctx.moveTo(px, u.bbox.top);
            ctx.lineTo(px, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.restore();
            drawn++;
            kinds.push(m.kind + ':' + (m.worker || ''));
          });
          var points = 0;
          var max = null;
          for (var i = 1; i < u.data.length; i++) {
            u.data[i].forEach(function (v) {
              if (v !== null && v !== undefined) {
                points++;
                max = max === null ? v : Math.max(max, v);
              }
            });
          }
          state.points = points;
          state.max = max;
          state.markers = drawn;
          state.markerKinds = kinds;
          state.draws++;
          state.lastX = u.data[0].length ? u.data[0][u.data[0].length - 1] : null;
          state.last = [];
          for (var j = 1; j < u.data.length; j++) {
            state.last.push(u.data[j].length ? u.data[j][u.data[j].length - 1] : null);
          }
        }
      }
    };
  }

  // One chart in a container: created when its set of series changes, otherwise only given new data.
  function drawChart(registry, container, id, title, unit, xs, series, markers) {
    var c = registry[id];
    var keys = series.map(function (s) { return s.key; }).join('|');
    if (!c) {
      var box = el('div', null, 'chart');
      box.setAttribute('data-chart', id);
      box.appendChild(el('h3', title));
      var plot = el('div');
      box.appendChild(plot);
      var empty = el('p', 'no data yet', 'empty');
      box.appendChild(empty);
      container.appendChild(box);
      c = { box: box, plot: plot, empty: empty, keys: null, u: null, markers: [],
        state: { points: 0, markers: 0, draws: 0, lastX: null, last: [], series: 0 } };
      registry[id] = c;
      window.slipstreamCharts[id] = c.state;
    }
    c.markers = markers;
    c.state.series = series.length;
    c.empty.hidden = series.length > 0;
    if (c.keys !== keys) {
      if (c.u) {
        c.u.destroy();
        c.u = null;
      }
      c.keys = keys;
      if (series.length > 0) {
        var fmt = formatter(unit);
        var opts = {
          width: Math.max(300, Math.min(620, c.box.clientWidth - 10)),
          height: 170,
          scales: { x: { time: true } },
          legend: { live: false },
          series: [{}].concat(series.map(function (s, i) {
            return { label: s.label, stroke: COLORS[i % COLORS.length], width: 1.5, value: function (u, v) { return fmt(v); } };
          })),
          axes: [{}, { size: 70, values: function (u, vals) { return vals.map(fmt); } }],
          plugins: [markerPlugin(c.state, function () { return c.markers; })]
        };
        c.u = new uPlot(opts, [xs].concat(series.map(function (s) { return s.values; })), c.plot);
        return;
      }
      c.state.points = 0;
      return;
    }
    if (c.u) {
      c.u.setData([xs].concat(series.map(function (s) { return s.values; })));
    }
  }

  function renderHistory(h) {
    var xs = h.t.map(function (t) { return t / 1000; });
    var container = document.getElementById('charts');
    h.charts.forEach(function (chart) {
      drawChart(charts, container, chart.id, chart.title, chart.unit, xs, chart.series, h.markers);
    });
  }

  // ---- Events: one line per fleet-level fact, filtered by worker, role and kind ------------------------
  function fillSelect(id, values) {
    var select = document.getElementById(id);
    var chosen = select.value;
    var have = Array.from(select.options).map(function (o) { return o.value; }).slice(1).join('|');
    if (have !== values.join('|')) {
      while (select.options.length > 1) {
        select.remove(1);
      }
      values.forEach(function (v) {
        var o = el('option', v);
        o.value = v;
        select.appendChild(o);
      });
      if (chosen && values.indexOf(chosen) < 0) {
        // Keep a chosen value the list no longer has, so the filter does not change under the operator.
        var keep = el('option', chosen);
        keep.value = chosen;
        select.appendChild(keep);
      }
      select.value = chosen;
    }
  }

  function eventsQuery() {
    var q = [];
    [['worker', 'event-worker'], ['role', 'event-role'], ['kind', 'event-kind']].forEach(function (p) {
      var v = document.getElementById(p[1]).value;
      if (v) {
        q.push(p[0] + '=' + encodeURIComponent(v));
      }
    });
    return q.length ? '?' + q.join('&') : '';
  }

  var openEvents = {};

  function renderEvents(doc) {
    fillSelect('event-worker', doc.workers);
    fillSelect('event-role', doc.roles);
    fillSelect('event-kind', doc.kinds);
    var list = document.getElementById('events');
    Array.from(list.querySelectorAll('details')).forEach(function (d) {
      openEvents[d.getAttribute('data-key')] = d.open;
    });
    while (list.firstChild) {
      list.removeChild(list.firstChild);
    }
    doc.lines.forEach(function (line) {
      var li = el('li');
      li.setAttribute('data-kind', line.kind);
      li.setAttribute('data-severity', line.severity);
      li.setAttribute('data-workers', line.workers.join(' '));
      li.setAttribute('data-roles', line.roles.join(' '));
      var details = el('details');
      var key = line.kind + '|' + line.first_at + '|' + line.text;
      details.setAttribute('data-key', key);
      details.open = openEvents[key] === true;
      var summary = el('summary');
      summary.appendChild(el('span', new Date(line.last_at).toLocaleTimeString(), 'muted'));
      summary.appendChild(el('span', line.severity, 'severity ' + (['error', 'warning', 'info']
        .indexOf(line.severity) >= 0 ? line.severity : 'info')));
      summary.appendChild(el('span', line.text, 'text'));
      details.appendChild(summary);
      var raw = el('ul', null, 'raw');
      line.raw.forEach(function (e) {
        raw.appendChild(el('li', e.at + ' ' + line.kind + ' ' + (e.worker || '-') + (e.detail ? ' ' + e.detail : '')));
      });
      details.appendChild(raw);
      li.appendChild(details);
      list.appendChild(li);
    });
  }

  ['event-worker', 'event-role', 'event-kind'].forEach(function (id) {
    document.getElementById(id).addEventListener('change', function () {
      getJson('/api/status/events' + eventsQuery()).then(renderEvents).catch(function () {});
    });
  });

  // ---- A worker's page: #worker=ID ------------------------------------------------------------------------
  function shownWorker() {
    var m = /^#worker=(.+)$/.exec(window.location.hash);
    return m ? decodeURIComponent(m[1]) : null;
  }

  function renderWorkerPage(id, doc) {
    var page = document.getElementById('worker-page');
    page.hidden = false;
    document.getElementById('worker-title').textContent = id;
    var missing = document.getElementById('worker-missing');
    if (doc.error) {
      missing.hidden = false;
      missing.textContent = doc.error;
      fill('worker-facts', []);
      fill('worker-counters', []);
      fill('worker-providers', []);
      return;
    }
    missing.hidden = doc.in_fleet;
    missing.textContent = doc.in_fleet ? '' : 'not in the fleet now: its history from the last 15 minutes';
    var w = doc.worker;
    fill('worker-facts', w ? [
      row(['Role / site', w.role + ' / ' + w.site]),
      row(['Health', badge(w.health)]),
      row(['Reason', w.reason || '']),
      row(['Configuration generation', doc.config_generation]),
      row(['Configuration digest', doc.config_digest || 'none yet']),
      row(['Controller expects digest', w.config_digest || 'unknown']),
      row(['Version', w.version]),
      row(['Control / metrics', w.control_endpoint + ' / ' + w.metrics_endpoint]),
      row(['Last report', doc.reported_at ? new Date(doc.reported_at).toLocaleTimeString() : 'none yet'])
    ] : []);
    var c = doc.counters || {};
    fill('worker-counters', Object.keys(c).map(function (k) { return row([k, c[k]], [1]); }));
    fill('worker-providers', (w ? w.compression : []).map(function (p) {
      return row([p.name, p.hardware ? 'yes' : 'no', p.available ? 'available' : 'unavailable', p.fallbacks,
        p.reason || ''], [3]);
    }));
    var h = doc.history;
    if (h) {
      var xs = h.t.map(function (t) { return t / 1000; });
      var container = document.getElementById('worker-charts');
      drawChart(workerCharts, container, 'worker_bytes', 'Bytes/s', 'bytes/s', xs, [
        { key: 'in', label: 'received', values: h.series.bytes_in_per_second },
        { key: 'out', label: 'sent', values: h.series.bytes_out_per_second }], h.markers);
      drawChart(workerCharts, container, 'worker_flows', 'Open flows', 'flows', xs, [
        { key: 'flows', label: 'flows', values: h.series.active_flows }], h.markers);
      drawChart(workerCharts, container, 'worker_cpu', 'CPU', 'ratio', xs, [
        { key: 'cpu', label: 'cpu', values: h.series.cpu }], h.markers);
    }
  }

  window.addEventListener('hashchange', function () {
    var id = shownWorker();
    if (!id) {
      document.getElementById('worker-page').hidden = true;
    }
    // A page for another worker starts with empty charts.
    Object.keys(workerCharts).forEach(function (k) {
      if (workerCharts[k].u) {
        workerCharts[k].u.destroy();
      }
      workerCharts[k].box.remove();
      delete window.slipstreamCharts[k];
    });
    workerCharts = {};
    if (id) {
      refreshWorker(id);
    }
  });

  function refreshWorker(id) {
    return fetch('/api/status/workers/' + encodeURIComponent(id), { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(function (doc) {
        if (shownWorker() === id) {
          renderWorkerPage(id, doc);
        }
      });
  }

  // ---- Polling and the connection badge -----------------------------------------------------------------
  function getJson(path) {
    return fetch(path, { cache: 'no-store' }).then(function (r) {
      if (!r.ok) {
        throw new Error('HTTP ' + r.status + ' for ' + path);
      }
      return r.json();
    });
  }

  var offlineSince = null;
  var startedAt = null;

  function note(text) {
    document.getElementById('reconnect-note').textContent = text;
  }

  function poll() {
    getJson('/api/status')
      .then(function (doc) {
        render(doc);
        connection(doc.stale ? 'stale' : 'live', doc.stale ? 'ZooKeeper away: last known fleet' : 'live');
        document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString()
          + ', generation ' + doc.generation;
        if (offlineSince !== null) {
          note('reconnected at ' + new Date().toLocaleTimeString() + ' after '
            + Math.round((Date.now() - offlineSince) / 1000) + ' s unreachable');
          offlineSince = null;
        }
        return getJson('/api/status/history');
      })
      .then(function (h) {
        if (startedAt !== null && h.started_at !== startedAt) {
          note('the controller restarted at ' + new Date(h.started_at).toLocaleTimeString()
            + ': its history starts again there');
        }
        startedAt = h.started_at;
        renderHistory(h);
        return getJson('/api/status/events' + eventsQuery());
      })
      .then(function (events) {
        renderEvents(events);
        var id = shownWorker();
        return id ? refreshWorker(id) : null;
      })
      .catch(function (err) {
        if (offlineSince === null) {
          offlineSince = Date.now();
        }
        connection('offline', 'controller unreachable: ' + err.message);
        note('reconnecting every ' + POLL_MS / 1000 + ' s; charts and tables show the last data');
      })
      .then(function () {
        window.setTimeout(poll, POLL_MS);
      });
  }

  poll();
}());
